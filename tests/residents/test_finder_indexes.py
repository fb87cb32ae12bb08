"""The finder's PostgreSQL shortcuts (migration 0007) against the truth they stand for.

`residents_resident.tag_ids` is a copy of the resident's rows in `residents_residenttag`: it must
agree with them after every kind of write (the tag services, the derived-tag refresh, bulk
inserts, deletes, updates). One- and two-character keywords go through the grams index: their
counts are compared with POSITION() over the columns, and the plan must read that index.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q

from residents.finder import FinderQuery, finder_residents
from residents.models import Resident, ResidentTag, Tag
from residents.services.tags import derived_tags_refresh, resident_tag_add, resident_tag_remove
from tests.residents.finder_data import build_finder_world
from tests.residents.test_finder_counts import district_user, frozen, fworld  # noqa: F401 - fixtures

pytestmark = [pytest.mark.postgres]


def disagreements() -> list[tuple]:
    """Residents whose tag_ids differ from their tag rows (sorted ids), straight from SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id, r.tag_ids, coalesce(t.ids, '{}') FROM residents_resident r "
            "LEFT JOIN (SELECT resident_id, array_agg(tag_id::integer ORDER BY tag_id) AS ids FROM residents_residenttag "
            "GROUP BY resident_id) t ON t.resident_id = r.id WHERE r.tag_ids <> coalesce(t.ids, '{}'::integer[])"
        )
        return cursor.fetchall()


def tag_ids_of(resident: Resident) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tag_ids FROM residents_resident WHERE id = %s", [resident.pk])
        return cursor.fetchone()[0]


def test_tag_ids_follow_every_write_of_the_tag_rows(tree, frozen):  # noqa: F811
    world = build_finder_world(tree)  # bulk-inserted tag rows
    assert ResidentTag.objects.count() > 100
    assert disagreements() == []
    resident = next(r for r in world.residents if r.status == "active")
    veteran, dibao = world.tags["veteran"], world.tags["dibao"]
    ResidentTag.objects.filter(resident=resident).delete()
    assert tag_ids_of(resident) == []
    resident_tag_add(resident=resident, tag=dibao)
    resident_tag_add(resident=resident, tag=veteran)
    assert tag_ids_of(resident) == sorted([dibao.pk, veteran.pk])
    resident_tag_remove(resident=resident, tag=dibao)
    assert tag_ids_of(resident) == [veteran.pk]
    # An update moving a row to another resident changes both residents.
    other = next(r for r in world.residents if r.status == "active" and r.pk != resident.pk)
    ResidentTag.objects.filter(resident=other, tag=veteran).delete()
    ResidentTag.objects.filter(resident=resident, tag=veteran).update(resident=other)
    assert veteran.pk not in tag_ids_of(resident)
    assert veteran.pk in tag_ids_of(other)
    # The derived tags (a statement each over many residents).
    Resident.objects.filter(pk__in=[r.pk for r in world.residents[:40]]).update(living_alone=True)
    assert derived_tags_refresh() > 0
    assert disagreements() == []
    ResidentTag.objects.filter(tag__code="elderly_60").delete()
    assert disagreements() == []


def test_tags_any_and_all_agree_with_the_tag_rows(fworld, district_user):  # noqa: F811
    tags = fworld.tags
    chosen = (tags["veteran"].pk, tags["disabled"].pk, tags["elderly_80"].pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE n > 0), count(*) FILTER (WHERE n = 3) FROM ("
            "SELECT (SELECT count(DISTINCT t.tag_id) FROM residents_residenttag t WHERE t.resident_id = r.id "
            "AND t.tag_id = ANY(%s)) AS n FROM residents_resident r WHERE r.status = 'active') x",
            [list(chosen)],
        )
        any_count, all_count = cursor.fetchone()
    assert any_count > all_count > 0
    assert finder_residents(district_user, FinderQuery(tags=chosen, tag_mode="any")).count() == any_count
    assert finder_residents(district_user, FinderQuery(tags=chosen, tag_mode="all")).count() == all_count


@pytest.mark.parametrize("keyword", ["疫", "疫区", "路1", "王", "Co", "co"])
def test_short_keywords_count_like_position(fworld, district_user, keyword):  # noqa: F811
    target = next(r for r in fworld.residents if r.status == "active")
    Resident.objects.filter(pk=target.pk).update(notes="接触过 COVID 病例")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM residents_resident r JOIN residents_house h ON h.id = r.house_id "
            "WHERE r.status = 'active' AND (POSITION(lower(%s) IN lower(r.name)) > 0 "
            "OR POSITION(lower(%s) IN lower(h.address)) > 0 OR POSITION(lower(%s) IN lower(r.notes)) > 0)",
            [keyword, keyword, keyword],
        )
        expected = cursor.fetchone()[0]
    assert expected > 0
    assert finder_residents(district_user, FinderQuery(keyword=keyword)).count() == expected


@pytest.mark.parametrize(
    ("condition", "index"),
    [
        (Q(name__finder_ilike="疫区"), "res_resident_name_grams"),
        (Q(notes__finder_ilike="疫区") & ~Q(notes=""), "res_resident_notes_grams"),
        (Q(name__finder_ilike="王"), "res_resident_name_grams"),
    ],
)
def test_a_short_keyword_reads_the_grams_index(fworld, condition, index):  # noqa: F811
    sql, params = Resident.objects.filter(condition).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE residents_resident")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a 320-row table would be scanned otherwise
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan


def test_tag_rows_of_a_community_tag_are_copied_too(fworld, tree):  # noqa: F811
    own = Tag.objects.create(code="own", name="自定义", community=tree["DS0C0"])
    resident = next(r for r in fworld.residents if r.community_id == tree["DS0C0"].pk)
    resident_tag_add(resident=resident, tag=own)
    assert own.pk in tag_ids_of(resident)
    assert disagreements() == []
