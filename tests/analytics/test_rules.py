"""Recommendation rules: each fires on its figures at its threshold and stays quiet below it."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from analytics.models import RecommendationRule, RuleKind
from analytics.narrative import resolve
from analytics.rules import DEFAULT_RULES, KINDS, Rule, recommend, template_problem
from tests.analytics.test_narrative import fig, rate, unit


def default(kind: str, **changes) -> Rule:
    rule = next(r for r in DEFAULT_RULES if r.kind == kind)
    return dataclasses.replace(rule, **changes)


def fired(figures: dict, rule: Rule) -> list[dict]:
    found = recommend(figures, [rule])
    for item in found:
        assert item["rule"] == rule.kind and item["severity"] == rule.severity
        for evidence in item["evidence"]:
            assert resolve(figures, evidence["ref"]) == evidence["value"]
    return found


def risers(value, prev, prev2) -> dict:
    return {"categories": {"risers": [{"key": "0702", "label": "交通堵塞", "count": fig(value, prev, prev2=prev2)}]}}


def test_a_category_rising_two_months_running():
    rule = default("category_rising_twice")  # each month +10 % at least, from at least 5
    [found] = fired(risers(200, 150, 120), rule)
    assert found["text"].startswith("交通堵塞类诉求连续两个月上升（120件→150件→200件），建议相关主管部门")
    assert fired(risers(200, 150, 150), rule) == []  # flat, then up: once, not twice
    assert fired(risers(150, 140, 130), rule) == []  # +7.7 % then +7.1 %: below +10 %
    assert fired(risers(30, 10, 4), rule) == []  # two months back below the minimum volume
    assert fired(risers(30, 10, 5), rule) != []
    # Without the count two months back the rule cannot say "two months running".
    no_prev2 = {"categories": {"risers": [{"key": "0702", "label": "交通堵塞", "count": fig(200, 150)}]}}
    assert fired(no_prev2, rule) == []


def grids(*repeats: int) -> dict:
    rows = [{"unit": unit(i, f"第{i}网格"), "petitions": 20, "repeats": n} for i, n in enumerate(repeats, 1)]
    return {"hotspots": {"grids": rows}}


def test_a_grid_with_many_repeats():
    rule = default("grid_many_repeats")  # 5 repeats
    [found] = fired(grids(5, 4), rule)
    assert found["text"] == "第1网格本月重复投诉5件，建议对重复诉求逐一回访、从源头治理，防止问题反复发生。"
    assert found["evidence"][0]["ref"] == "hotspots.grids[0].repeats"
    assert fired(grids(4, 0), rule) == []


def units(*rates: tuple[float, int]) -> dict:
    rows = [{"unit": unit(i, f"第{i}街道", "street"), "satisfaction": rate(v, n)} for i, (v, n) in enumerate(rates, 1)]
    return {"rates": {"by_unit": rows}}


def test_a_unit_under_the_satisfaction_threshold():
    rule = default("unit_low_satisfaction")  # below 90 % over at least 5 ratings
    [found] = fired(units((0.8999, 10), (0.9, 10), (0.2, 4), (None, 0)), rule)
    assert found["text"] == "第1街道满意率为89.99%，低于90.00%的目标，建议对不满意诉求逐一回访、逐一销号。"
    assert fired(units((0.9, 100), (0.5, 4)), rule) == []


def departments(*counts: int) -> dict:
    rows = [
        {"unit": {"id": i, "code": f"G{i}", "name": f"第{i}局", "kind": "district"}, "count": fig(n, 0)}
        for i, n in enumerate(counts, 1)
    ]
    return {"returns": {"by_department": rows}}


def test_a_department_with_many_returns():
    rule = default("department_many_returns")  # 5 returns
    [found] = fired(departments(2, 5), rule)
    assert found["text"].startswith("第2局本月退单5件")
    assert found["evidence"][0]["ref"] == "returns.by_department[1].count.value"
    assert fired(departments(4, 4), rule) == []


def seasonal(value, last_year) -> dict:
    return {"categories": {"seasonal": [{"key": "0107", "label": "路边烧烤", "count": fig(value, 1, last_year)}]}}


def test_a_seasonal_riser():
    rule = default("seasonal_riser")  # +30 % on last year, both at least 5
    [found] = fired(seasonal(13, 10), rule)
    assert found["text"].startswith("路边烧烤类诉求较去年同月增加30%（10件→13件）")
    assert fired(seasonal(12, 10), rule) == []  # +20 %
    assert fired(seasonal(5, 1), rule) == []  # "+400 %" on one case
    assert fired(seasonal(13, None), rule) == []


def test_at_most_max_items_per_rule_in_document_order():
    rule = default("grid_many_repeats", max_items=2)
    found = fired(grids(9, 8, 7), rule)
    assert [f["evidence"][0]["ref"] for f in found] == ["hotspots.grids[0].repeats", "hotspots.grids[1].repeats"]


def test_every_kind_has_a_default_rule_and_a_model_choice():
    assert set(KINDS) == {r.kind for r in DEFAULT_RULES} == set(RuleKind.values)
    for rule in DEFAULT_RULES:
        assert template_problem(rule.kind, rule.text_template) is None


def test_a_template_naming_what_the_kind_lacks_is_refused():
    assert "{unit}" in template_problem("seasonal_riser", "{unit}增加")
    assert template_problem("seasonal_riser", "{label") is not None
    assert template_problem("nonsense", "x") is not None
    # A broken rule in the database raises nothing in a report: it is skipped.
    broken = default("grid_many_repeats", text_template="{label}多")
    assert recommend(grids(9), [broken]) == []


@pytest.mark.django_db
def test_the_migration_seeds_the_default_rules():
    seeded = list(RecommendationRule.objects.order_by("sort_order"))
    assert [(r.kind, r.name, r.threshold, r.min_count, r.text_template) for r in seeded] == [
        (r.kind, r.name, Decimal(r.threshold), r.min_count, r.text_template) for r in DEFAULT_RULES
    ]
    assert all(r.is_active for r in seeded)


@pytest.mark.django_db
def test_the_model_refuses_a_bad_template():
    rule = RecommendationRule(kind="grid_many_repeats", name="x", threshold=Decimal("3"), text_template="{rate}")
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert "text_template" in error.value.message_dict


@pytest.mark.django_db
def test_an_inactive_rule_raises_nothing(django_assert_num_queries):
    from analytics.narrative import narrate

    RecommendationRule.objects.exclude(kind="grid_many_repeats").update(is_active=False)
    RecommendationRule.objects.filter(kind="grid_many_repeats").update(threshold=Decimal("3"))
    with django_assert_num_queries(1):
        result = narrate({"settings": {"min_volume": 5}, **grids(3, 1)})
    assert [r["rule"] for r in result["recommendations"]] == ["grid_many_repeats"]
    RecommendationRule.objects.update(is_active=False)
    assert narrate(grids(9))["recommendations"] == []


def test_the_admin_lists_and_edits_the_rules(admin_client):
    response = admin_client.get(reverse("admin:analytics_recommendationrule_changelist"))
    assert response.status_code == 200
    assert "网格重复投诉多" in response.content.decode()
    rule = RecommendationRule.objects.get(kind="grid_many_repeats")
    response = admin_client.get(reverse("admin:analytics_recommendationrule_change", args=[rule.pk]))
    assert response.status_code == 200
