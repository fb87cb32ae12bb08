"""The default recommendation rules (analytics.rules.DEFAULT_RULES), editable in the admin."""

from django.db import migrations

# Frozen here: the defaults as this migration wrote them, whatever the code says later.
RULES = [
    {
        "kind": "category_rising_twice",
        "name": "类别连续两月上升",
        "severity": "warning",
        "threshold": "0.1",
        "min_count": 5,
        "text_template": "{label}类诉求连续两个月上升（{prev2}件→{prev}件→{value}件），"
        "建议相关主管部门分析成因，开展专项整治，加大整治力度。",
    },
    {
        "kind": "grid_many_repeats",
        "name": "网格重复投诉多",
        "severity": "warning",
        "threshold": "5",
        "min_count": 0,
        "text_template": "{unit}本月重复投诉{repeats}件，建议对重复诉求逐一回访、从源头治理，防止问题反复发生。",
    },
    {
        "kind": "unit_low_satisfaction",
        "name": "单位满意率低于目标",
        "severity": "warning",
        "threshold": "0.9",
        "min_count": 5,
        "text_template": "{unit}满意率为{rate}，低于{threshold}的目标，建议对不满意诉求逐一回访、逐一销号。",
    },
    {
        "kind": "department_many_returns",
        "name": "部门退单多",
        "severity": "info",
        "threshold": "5",
        "min_count": 0,
        "text_template": "{unit}本月退单{returns}件，建议厘清职责边界，减少诉求往返流转。",
    },
    {
        "kind": "seasonal_riser",
        "name": "同比上升较多的类别",
        "severity": "warning",
        "threshold": "0.3",
        "min_count": 5,
        "text_template": "{label}类诉求较去年同月增加{change}（{last_year}件→{value}件），"
        "建议相关主管部门对照去年同期情况提前部署，继续开展专项行动，加大整治力度。",
    },
]


def seed(apps, schema_editor):
    RecommendationRule = apps.get_model("analytics", "RecommendationRule")
    for order, rule in enumerate(RULES, 1):
        RecommendationRule.objects.get_or_create(
            kind=rule["kind"], name=rule["name"], defaults={**rule, "sort_order": order}
        )


def unseed(apps, schema_editor):
    RecommendationRule = apps.get_model("analytics", "RecommendationRule")
    for rule in RULES:
        RecommendationRule.objects.filter(kind=rule["kind"], name=rule["name"]).delete()


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_recommendation_rule")]

    operations = [migrations.RunPython(seed, unseed)]
