"""Fill the level columns of existing houses and seed the district-wide tags."""

from django.db import migrations

# (code, name, kind, sensitive, order): the district-wide tags. Derived ones are kept by
# residents.services.tags; communities add their own in the admin.
DISTRICT_TAGS = [
    ("elderly_60", "60岁以上老人", "derived", False, 10),
    ("elderly_80", "80岁以上高龄老人", "derived", False, 11),
    ("living_alone", "独居", "derived", False, 12),
    ("veteran", "退役军人", "manual", False, 20),
    ("unemployed", "失业人员", "manual", False, 21),
    ("disabled", "残疾人", "manual", True, 22),
    ("dibao", "低保", "manual", True, 23),
    ("party_member", "党员", "manual", False, 24),
    ("special_care", "特殊人群", "manual", True, 30),
    ("left_behind_child", "留守儿童", "manual", True, 31),
    ("serious_illness", "大病患者", "manual", True, 32),
    ("empty_nest", "空巢老人", "manual", False, 33),
]

LEVEL_COLUMNS = {2: "street_id", 3: "community_id", 4: "grid_id", 5: "microgrid_id"}


def fill_house_levels(apps, schema_editor):
    House = apps.get_model("residents", "House")
    Area = apps.get_model("grids", "Area")
    by_code = {code: (pk, level) for pk, code, level in Area.objects.values_list("id", "code", "level")}
    batch = []
    for house in House.objects.select_related("microgrid").only("id", "microgrid__path"):
        for code in [c for c in house.microgrid.path.split("/") if c]:
            pk, level = by_code.get(code, (None, None))
            if level in LEVEL_COLUMNS:
                setattr(house, LEVEL_COLUMNS[level], pk)
        batch.append(house)
    House.objects.bulk_update(batch, ["street_id", "community_id", "grid_id"], batch_size=1000)


def seed_tags(apps, schema_editor):
    Tag = apps.get_model("residents", "Tag")
    for code, name, kind, sensitive, order in DISTRICT_TAGS:
        Tag.objects.update_or_create(
            code=code,
            community=None,
            defaults={"name": name, "kind": kind, "sensitive": sensitive, "sort_order": order},
        )


def unseed_tags(apps, schema_editor):
    apps.get_model("residents", "Tag").objects.filter(
        community=None, code__in=[row[0] for row in DISTRICT_TAGS], residents__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("residents", "0002_records_buildings_residents_tags_party"),
        ("grids", "0003_chinese_names"),
    ]

    operations = [
        migrations.RunPython(fill_house_levels, migrations.RunPython.noop),
        migrations.RunPython(seed_tags, unseed_tags),
    ]
