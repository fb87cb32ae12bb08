"""The hotspots section: per-grid counts, households, risk, rankings and clusters, against hand counts."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from analytics.selectors.hotspots import (
    CLUSTER_MIN_POINTS,
    cluster_floor,
    hotspots_section,
    road_of,
)
from appeals.models import Category, Channel, EventType, Petition, PetitionEvent, PetitionRating, Rating, Status
from residents.models import House

SH = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)
NOW = datetime(2026, 12, 2, 12, tzinfo=SH)


def at(month: int, day: int, hour: int = 9, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SH)


@pytest.fixture
def categories(db):
    parent = Category.objects.create(code="T", name="市容环境", kind="complaint")
    return {
        "noise": Category.objects.create(code="T01", name="施工噪音", kind="complaint", parent=parent),
        "bbq": Category.objects.create(code="T02", name="路边烧烤", kind="complaint", parent=parent),
    }


def petition(microgrid, *, when=None, category=None, lon=None, lat=None, address="", status=Status.ASSIGNED, **extra):
    grid = microgrid.parent
    community = grid.parent
    return Petition.objects.create(
        tracking_no=f"H{next(_numbers):08d}",
        channel=Channel.MOBILE,
        title="测试",
        description="测试",
        status=status,
        tier=1,
        handler_area=grid,
        microgrid=microgrid,
        grid=grid,
        community=community,
        street=community.parent,
        area_path=microgrid.path,
        created_at=when or at(11, 10),
        category=category,
        lon=lon,
        lat=lat,
        address=address,
        **extra,
    )


def rate(p, rating, when, *, round_number=1):
    PetitionRating.objects.filter(petition=p).update(is_latest=False)
    PetitionRating.objects.create(
        petition=p, round_number=round_number, rating=rating, source="resident", rated_at=when
    )


def clock_end(p, at, *, on_time):
    """An acceptance that ended the acceptance clock, late or in time."""
    PetitionEvent.objects.create(
        petition=p,
        type=EventType.ACCEPTED,
        from_status=Status.ASSIGNED,
        to_status=Status.ACCEPTED,
        created_at=at,
        deadline_in_force=at,
        on_time=on_time,
    )


def row_of(rows, code):
    return next(r for r in rows if r["unit"]["code"] == code)


def test_road_of_reads_the_road_after_the_administrative_prefix():
    assert road_of("青岛市市北区延安路123号") == "延安路"
    assert road_of("延安路12号院") == "延安路"
    assert road_of("萍乡里社区3号楼") is None
    assert road_of("辽宁路街道辽宁路5号") == "辽宁路"
    assert road_of("") is None


def test_it_counts_each_grid_by_hand(tree, categories):
    mg_a, mg_b = tree["DS0C0G0M0"], tree["DS0C0G1M0"]
    first = petition(mg_a)
    petition(mg_a, repeat_of=first)
    petition(mg_a, repeat_of=first)
    petition(mg_a, when=at(10, 31, 23))  # October: not this month
    petition(mg_a, when=at(12, 1, 0))  # midnight 1 December Beijing time: not November
    merged_into = petition(mg_b)
    petition(mg_b, status=Status.MERGED, merged_into=merged_into)  # received, as the volume counts it
    # Overdue: clocks that ran out in November; in time or in October does not count.
    clock_end(first, at(11, 20), on_time=False)
    clock_end(merged_into, at(11, 20), on_time=True)
    clock_end(merged_into, at(10, 20), on_time=False)
    # Unsatisfied: the latest rating in the month.
    rate(first, Rating.UNSATISFIED, at(11, 12))
    rate(merged_into, Rating.UNSATISFIED, at(11, 12))
    rate(merged_into, Rating.SATISFIED, at(11, 13), round_number=2)

    section = hotspots_section(tree.district, 2026, 11, now=NOW)

    a = row_of(section["grids"], "DS0C0G0")
    assert (a["petitions"], a["repeats"], a["overdue"], a["unsatisfied"]) == (3, 2, 1, 1)
    b = row_of(section["grids"], "DS0C0G1")
    assert (b["petitions"], b["repeats"], b["overdue"], b["unsatisfied"]) == (2, 0, 0, 0)
    assert len(section["grids"]) == 8  # every grid of the district, for the map


def test_households_come_from_house_rows_and_fall_back_to_the_recorded_estimate(tree):
    mg = tree["DS0C0G0M0"]
    for _ in range(3):
        petition(mg)
    section = hotspots_section(tree.district, 2026, 11, now=NOW)
    row = row_of(section["grids"], "DS0C0G0")
    # No House rows anywhere: two micro-grids × 60 recorded households.
    assert section["households_source"] == "estimate"
    assert (row["households"], row["households_source"], row["per_1000"]) == (120, "estimate", 25.0)

    for n in range(4):
        House.objects.create(address=f"延安路{n}号", address_key=f"yanan{n}", microgrid=mg, area_path=mg.path)
    section = hotspots_section(tree.district, 2026, 11, now=NOW)
    row = row_of(section["grids"], "DS0C0G0")
    assert section["households_source"] == "houses"
    assert (row["households"], row["per_1000"]) == (4, 750.0)
    # A grid without houses has no rate rather than a made-up one.
    assert row_of(section["grids"], "DS1C1G1")["per_1000"] is None


def test_risk_weights_the_four_counts_against_the_worst_grid(tree, settings):
    settings.REPORT_RISK_WEIGHTS = {"volume": 0.4, "repeats": 0.3, "overdue": 0.2, "unsatisfied": 0.1}
    hot, mild = tree["DS0C0G0M0"], tree["DS1C0G0M0"]
    first = petition(hot)
    for _ in range(3):
        petition(hot, repeat_of=first)
    clock_end(first, at(11, 20), on_time=False)
    rate(first, Rating.UNSATISFIED, at(11, 21))
    petition(mild)
    petition(mild)

    section = hotspots_section(tree.district, 2026, 11, now=NOW)
    top, second = section["grids"][0], section["grids"][1]
    assert top["unit"]["code"] == "DS0C0G0" and top["risk"] == 1.0 and top["rank"] == 1
    # 2 of 4 petitions, no repeats, overdue or unsatisfied: 0.4 × 0.5.
    assert second["unit"]["code"] == "DS1C0G0" and second["risk"] == 0.2
    assert section["risk_weights"] == settings.REPORT_RISK_WEIGHTS
    assert top["rank_repeats"] == 1 and second["rank_repeats"] == 2


def test_microgrids_are_ranked_by_petitions_per_thousand_households(tree):
    petition(tree["DS0C0G0M0"])
    for _ in range(3):
        petition(tree["DS1C1G1M1"])
    rows = hotspots_section(tree.district, 2026, 11, now=NOW)["microgrids"]
    assert [r["unit"]["code"] for r in rows] == ["DS1C1G1M1", "DS0C0G0M0"]
    assert rows[0]["per_1000"] == 50.0  # 3 / 60 households


def test_a_dense_place_is_one_cluster_named_by_road_and_community(tree, categories):
    mg = tree["DS0C0G0M0"]  # [120, 120.01] × [36, 36.01]
    for n in range(CLUSTER_MIN_POINTS + 2):
        petition(
            mg,
            lon=120.0051 + n * 0.00001,
            lat=36.0051,
            address="延安路12号院" if n else "青岛市市北区台东路3号",
            category=categories["bbq"],
        )
    # Scattered points elsewhere: no cluster.
    for n in range(CLUSTER_MIN_POINTS - 1):
        petition(tree["DS1C1G1M1"], lon=120.031 + n * 0.002, lat=36.031 + n * 0.002)

    found = hotspots_section(tree.district, 2026, 11, now=NOW)["clusters"]

    assert len(found) == 1
    cluster = found[0]
    assert cluster["count"] == CLUSTER_MIN_POINTS + 2
    assert cluster["name"] == f"延安路·{tree['DS0C0G0M0'].parent.parent.name}"
    assert cluster["top_category"] == {"key": "T02", "label": "路边烧烤"}
    assert abs(cluster["lon"] - 120.0051) < 0.001 and abs(cluster["lat"] - 36.0051) < 0.001


def test_a_cell_is_dense_against_the_area_s_own_mean():
    assert cluster_floor([]) == CLUSTER_MIN_POINTS
    assert cluster_floor([1, 1, 1, 9]) == 9  # 3 × the mean of 3
    assert cluster_floor([4, 4, 4, 4]) == 12
    assert cluster_floor([1, 1, 1, 1]) == CLUSTER_MIN_POINTS


def test_an_evenly_busy_area_has_no_cluster(tree):
    mg = tree["DS0C0G0M0"]
    # Six petitions in each of nine neighbouring cells: busy everywhere, hot nowhere.
    for i in range(3):
        for j in range(3):
            for _ in range(6):
                petition(mg, lon=120.0003 + i * 0.0023, lat=36.0003 + j * 0.0018)
    assert hotspots_section(tree.district, 2026, 11, now=NOW)["clusters"] == []


def test_an_area_without_petitions_has_cold_grids_and_no_clusters(tree):
    section = hotspots_section(tree["DS0"], 2026, 11, now=NOW)
    assert len(section["grids"]) == 4
    assert all(r["risk"] == 0 and r["petitions"] == 0 for r in section["grids"])
    assert section["microgrids"] == [] and section["clusters"] == []
