"""Hotspots of one month in one area: grids and micro-grids ranked, spatial clusters, a risk score.

The `hotspots` section of the monthly report's figures (REPORT_CONTRACT.md; docs/analytics.md):

- Per grid and per micro-grid, from set-based SQL grouped by the petition's (`grid_id`,
  `microgrid_id`), one statement per measure: petitions filed in the month (as the report's
  `volume` counts them), repeat complaints among them (`repeat_of` set), clocks that ran out in
  the month (steps with `on_time` false, as the report's `overdue.overdue` counts them: a petition
  late at two tiers counts twice), and petitions whose outcome in the month was 不满意 (their
  latest rating given in the month, like the resolution rate).
- Households: House rows (residents.House) per micro-grid, summed to grids. Only where an area
  has no House rows at all, the micro-grid's recorded `households` (the estimate entered with the
  boundaries) stands in; each row says which (`households_source`: "houses" | "estimate" | null).
  `per_1000` = petitions ÷ households × 1000 (1 decimal), null without households.
- Risk per grid: the weighted sum of the four counts, each divided by the largest value among the
  area's grids (so 1.0 = the worst grid on every measure), weights `settings.REPORT_RISK_WEIGHTS`.
- Clusters: a grid-cell method in SQL. Points are binned into cells of CLUSTER_CELL_METRES (one
  GROUP BY over the month's petitions of the area); a cell is dense when it holds at least
  CLUSTER_MIN_POINTS and at least CLUSTER_DENSITY_FACTOR × the mean of the occupied cells (so a busy
  district is not one cluster from end to end), and dense cells that touch (8-neighbourhood) form
  one cluster. The database returns one row per occupied cell, so the Python part is bounded by the
  area's size, not by the petition count.
  A cluster is named by the road most of its addresses name and the community most of its
  petitions belong to ("延安路·萍乡里社区").
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db import transaction

from analytics.selectors.common import ReportScope, analytic_session, dialect, fetch
from appeals.history import CLOCK_ENDING_EVENTS
from grids.models import Area, AreaLevel

MICROGRIDS_SHOWN = 20
CLUSTERS_SHOWN = 20
# A cell of ~200 m: a few yards or one stretch of road, what a grid worker calls "one place".
CLUSTER_CELL_METRES = 200
# A place with fewer petitions in a month is not a cluster...
CLUSTER_MIN_POINTS = 5
# ...nor one with fewer than this many times the mean of the area's occupied cells: in a busy
# district every cell holds a few petitions, and only the places well above that are hot.
CLUSTER_DENSITY_FACTOR = 3
_METRES_PER_DEGREE = 111_320.0
# A cell's key: column × KEY_BASE + row (rows stay far below it: latitude ÷ cell < 10^6).
KEY_BASE = 100_000_000

LEVEL_NAMES = {
    AreaLevel.DISTRICT: "district",
    AreaLevel.STREET: "street",
    AreaLevel.COMMUNITY: "community",
    AreaLevel.GRID: "grid",
    AreaLevel.MICROGRID: "microgrid",
}

# Petitions of the month in the subtree, counted per unit column (grid_id or microgrid_id).
_VOLUME_SQL = """
SELECT p.grid_id, p.microgrid_id,
       COUNT(*) AS petitions,
       COUNT(*) FILTER (WHERE p.repeat_of_id IS NOT NULL) AS repeats
FROM appeals_petition p
WHERE {area}
  AND {created_in_month}
  AND p.grid_id IS NOT NULL
GROUP BY p.grid_id, p.microgrid_id
"""

# Clocks that ran out: steps in the month that ended a clock after its deadline (`on_time` false: a
# late acceptance, a late reply, an escalation on deadline…), as the report's `overdue` counts them.
_OVERDUE_SQL = """
SELECT p.grid_id, p.microgrid_id, COUNT(*) AS overdue
FROM appeals_petitionevent e
JOIN appeals_petition p ON p.id = e.petition_id
WHERE {area}
  AND e.type IN ({clock_ending})
  AND e.on_time = FALSE
  AND {event_in_month}
  AND p.grid_id IS NOT NULL
GROUP BY p.grid_id, p.microgrid_id
"""

# Petitions whose latest rating given in the month is 不满意 (the resolution rate's outcome).
_UNSATISFIED_SQL = """
WITH latest AS (
    SELECT p.grid_id, p.microgrid_id, rt.rating,
           ROW_NUMBER() OVER (PARTITION BY rt.petition_id ORDER BY rt.rated_at DESC, rt.id DESC) AS newest
    FROM appeals_petitionrating rt
    JOIN appeals_petition p ON p.id = rt.petition_id
    WHERE {area}
      AND {rated_in_month}
      AND p.grid_id IS NOT NULL
)
SELECT grid_id, microgrid_id, COUNT(*) AS unsatisfied
FROM latest
WHERE newest = 1 AND rating = 'unsatisfied'
GROUP BY grid_id, microgrid_id
"""

# House rows per micro-grid of the subtree.
_HOUSES_SQL = """
SELECT h.microgrid_id, COUNT(*) AS households
FROM residents_house h
WHERE h.area_path LIKE %(subtree)s
GROUP BY h.microgrid_id
"""

# One row per occupied cell: the month's located petitions binned into cells.
_CELLS_SQL = """
SELECT {cx} AS cx, {cy} AS cy, COUNT(*) AS n, SUM(p.lon) AS sum_lon, SUM(p.lat) AS sum_lat
FROM appeals_petition p
WHERE {area}
  AND {created_in_month}
  AND p.lon IS NOT NULL AND p.lat IS NOT NULL
GROUP BY 1, 2
"""

# What the petitions of the clusters' cells are about and where: one row per (cell, address,
# community, category), for naming the clusters. The box is a cheap first cut; the cell keys
# (written into the statement as integers) keep the chosen cells only.
_CELL_DETAIL_SQL = """
SELECT {cx} AS cx, {cy} AS cy, p.address, p.community_id, p.category_id, COUNT(*) AS n,
       MIN(p.lon), MAX(p.lon), MIN(p.lat), MAX(p.lat)
FROM appeals_petition p
WHERE {area}
  AND {created_in_month}
  AND p.lon IS NOT NULL AND p.lat IS NOT NULL
  AND p.lon >= %(lon0)s AND p.lon < %(lon1)s AND p.lat >= %(lat0)s AND p.lat < %(lat1)s
  AND ({cx}) * {key_base} + ({cy}) IN ({keys})
GROUP BY 1, 2, 3, 4, 5
"""

# "青岛市市北区延安路123号" → "延安路": the administrative prefix dropped, then the first road name.
_PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{1,6}?[省市])?(?:[\u4e00-\u9fff]{1,6}?[区县])?")
_ROAD = re.compile(r"([\u4e00-\u9fff]{1,8}?(?:大道|路|街(?!道)|巷))")


def road_of(address: str) -> str | None:
    """The road an address names, or None ("萍乡里社区3号楼" names none)."""
    rest = _PREFIX.sub("", address or "", count=1)
    match = _ROAD.search(rest)
    return match.group(1) if match else None


class _Unit(NamedTuple):
    pk: int
    code: str
    name: str
    level: int
    parent_id: int | None
    households: int | None


def unit_ref(area: Area | _Unit) -> dict:
    return {"id": area.pk, "code": area.code, "name": area.name, "level": LEVEL_NAMES[area.level]}


def risk_weights() -> dict[str, float]:
    return {key: float(value) for key, value in settings.REPORT_RISK_WEIGHTS.items()}


def _sql(template: str, scope: ReportScope, **extra: str) -> str:
    """A statement with the scope's area condition and month ranges filled in."""
    return template.format(
        area=scope.area_condition,
        created_in_month=scope.in_month("p.created_at"),
        event_in_month=scope.in_month("e.created_at"),
        clock_ending=", ".join(f"'{kind}'" for kind in sorted(CLOCK_ENDING_EVENTS)),
        rated_in_month=scope.in_month("rt.rated_at"),
        **extra,
    )


def _empty() -> dict[str, int]:
    return {"petitions": 0, "repeats": 0, "overdue": 0, "unsatisfied": 0}


def _counts(scope: ReportScope, params: dict) -> tuple[dict[int, dict[str, int]], dict[int, dict[str, int]]]:
    """grid id → counts and micro-grid id → counts ({petitions, repeats, overdue, unsatisfied}),
    from one statement per measure grouped by (grid, micro-grid). A petition placed on a grid
    without a micro-grid counts for the grid only."""
    grids: dict[int, dict[str, int]] = defaultdict(_empty)
    microgrids: dict[int, dict[str, int]] = defaultdict(_empty)

    def add(grid_id, microgrid_id, **values):
        for key, value in values.items():
            grids[grid_id][key] += value
            if microgrid_id is not None:
                microgrids[microgrid_id][key] += value

    for grid_id, microgrid_id, petitions, repeats in fetch(_sql(_VOLUME_SQL, scope), params):
        add(grid_id, microgrid_id, petitions=petitions, repeats=repeats)
    for grid_id, microgrid_id, overdue in fetch(_sql(_OVERDUE_SQL, scope), params):
        add(grid_id, microgrid_id, overdue=overdue)
    for grid_id, microgrid_id, unsatisfied in fetch(_sql(_UNSATISFIED_SQL, scope), params):
        add(grid_id, microgrid_id, unsatisfied=unsatisfied)
    return grids, microgrids


def _per_1000(petitions: int, households: int | None) -> float | None:
    if not households:
        return None
    return round(petitions * 1000 / households, 1)


def _score(rows: list[dict], weights: dict[str, float]) -> None:
    """Each row's risk: Σ weight × count ÷ the largest count of that measure among `rows`."""
    measures = {"volume": "petitions", "repeats": "repeats", "overdue": "overdue", "unsatisfied": "unsatisfied"}
    peaks = {key: max((row[field] for row in rows), default=0) for key, field in measures.items()}
    for row in rows:
        total = sum(weights.get(key, 0.0) * (row[field] / peaks[key]) for key, field in measures.items() if peaks[key])
        row["risk"] = round(total, 4)


def _unit_rows(units: list[_Unit], counts: dict, households: dict[int, int | None], sources: dict) -> list[dict]:
    rows = []
    for unit in units:
        c = counts.get(unit.pk) or _empty()
        homes = households.get(unit.pk)
        rows.append(
            {
                "unit": unit_ref(unit),
                "petitions": c["petitions"],
                "households": homes,
                "households_source": sources.get(unit.pk),
                "per_1000": _per_1000(c["petitions"], homes),
                "repeats": c["repeats"],
                "overdue": c["overdue"],
                "unsatisfied": c["unsatisfied"],
            }
        )
    return rows


def _rank(rows: list[dict]) -> None:
    """rank: by risk; rank_per_1000 and rank_repeats: the two rankings the report shows."""
    rows.sort(key=lambda r: (-r["risk"], -r["petitions"], r["unit"]["code"]))
    for position, row in enumerate(rows, 1):
        row["rank"] = position
    by_rate = sorted(rows, key=lambda r: (-(r["per_1000"] or 0), -r["petitions"], r["unit"]["code"]))
    for position, row in enumerate(by_rate, 1):
        row["rank_per_1000"] = position
    by_repeats = sorted(rows, key=lambda r: (-r["repeats"], -r["petitions"], r["unit"]["code"]))
    for position, row in enumerate(by_repeats, 1):
        row["rank_repeats"] = position


def _households(area: Area, microgrids: list[_Unit]) -> tuple[dict[int, int], dict[int, int], str | None]:
    """Households per micro-grid and per grid, and the source used for the whole area."""
    houses = dict(fetch(_HOUSES_SQL, {"subtree": f"{area.path}%"}))
    per_microgrid: dict[int, int] = {}
    source = None
    if houses:
        source = "houses"
        per_microgrid = {mg.pk: houses.get(mg.pk, 0) for mg in microgrids}
    elif any(mg.households for mg in microgrids):
        source = "estimate"
        per_microgrid = {mg.pk: mg.households or 0 for mg in microgrids}
    per_grid: dict[int, int] = defaultdict(int)
    for mg in microgrids:
        if mg.pk in per_microgrid:
            per_grid[mg.parent_id] += per_microgrid[mg.pk]
    return per_microgrid, dict(per_grid), source


def _cell_expressions() -> tuple[str, str, float, float]:
    """SQL for the cell column/row of a point and the cell size in degrees (lon, lat)."""
    lat_step = CLUSTER_CELL_METRES / _METRES_PER_DEGREE
    # Cells square on the ground at Qingdao's latitude would need the area's latitude; 36° serves
    # every Chinese city within ±10 % of the cell width.
    lon_step = lat_step / math.cos(math.radians(36))
    # Longitudes and latitudes are positive in China, where SQLite's truncation is the floor.
    sql = dialect()
    return sql.floor_int(f"p.lon / {lon_step!r}"), sql.floor_int(f"p.lat / {lat_step!r}"), lon_step, lat_step


def _components(dense: set[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    seen: set[tuple[int, int]] = set()
    groups = []
    for cell in sorted(dense):
        if cell in seen:
            continue
        seen.add(cell)
        stack, group = [cell], []
        while stack:
            x, y = stack.pop()
            group.append((x, y))
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    other = (x + dx, y + dy)
                    if other in dense and other not in seen:
                        seen.add(other)
                        stack.append(other)
        groups.append(group)
    return groups


def _metres(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    dx = (lon1 - lon0) * _METRES_PER_DEGREE * math.cos(math.radians((lat0 + lat1) / 2))
    dy = (lat1 - lat0) * _METRES_PER_DEGREE
    return math.hypot(dx, dy)


def cluster_floor(counts: list[int]) -> int:
    """The petitions a cell needs to be dense: CLUSTER_MIN_POINTS, and CLUSTER_DENSITY_FACTOR × the
    mean of the occupied cells."""
    if not counts:
        return CLUSTER_MIN_POINTS
    return max(CLUSTER_MIN_POINTS, math.ceil(CLUSTER_DENSITY_FACTOR * sum(counts) / len(counts)))


def clusters(scope: ReportScope, params: dict) -> list[dict]:
    """The month's clusters of petition points in the area, largest first (CLUSTERS_SHOWN)."""
    cx, cy, lon_step, lat_step = _cell_expressions()
    cells = {(x, y): (n, sx, sy) for x, y, n, sx, sy in fetch(_sql(_CELLS_SQL, scope, cx=cx, cy=cy), params)}
    floor = cluster_floor([n for n, _sx, _sy in cells.values()])
    dense = {cell for cell, (n, _sx, _sy) in cells.items() if n >= floor}
    groups = sorted(_components(dense), key=lambda g: (-sum(cells[c][0] for c in g), min(g)))[:CLUSTERS_SHOWN]
    if not groups:
        return []
    # One detail query over the chosen cells.
    chosen = {cell: index for index, group in enumerate(groups) for cell in group}
    xs, ys = [c[0] for c in chosen], [c[1] for c in chosen]
    box = {
        "lon0": min(xs) * lon_step,
        "lon1": (max(xs) + 1) * lon_step,
        "lat0": min(ys) * lat_step,
        "lat1": (max(ys) + 1) * lat_step,
    }
    roads: list[Counter] = [Counter() for _ in groups]
    communities: list[Counter] = [Counter() for _ in groups]
    categories: list[Counter] = [Counter() for _ in groups]
    extents: list[list[float]] = [[math.inf, -math.inf, math.inf, -math.inf] for _ in groups]
    for x, y, address, community_id, category_id, n, lo0, lo1, la0, la1 in fetch(
        _sql(
            _CELL_DETAIL_SQL,
            scope,
            cx=cx,
            cy=cy,
            key_base=str(KEY_BASE),
            keys=", ".join(str(int(x) * KEY_BASE + int(y)) for x, y in sorted(chosen)),
        ),
        {**params, **box},
    ):
        index = chosen.get((x, y))
        if index is None:
            continue
        road = road_of(address)
        if road:
            roads[index][road] += n
        if community_id:
            communities[index][community_id] += n
        if category_id:
            categories[index][category_id] += n
        e = extents[index]
        e[0], e[1], e[2], e[3] = min(e[0], lo0), max(e[1], lo1), min(e[2], la0), max(e[3], la1)
    names = _names({pk for counter in communities for pk in counter} | {pk for c in categories for pk in c})
    found = []
    for index, group in enumerate(groups):
        count = sum(cells[c][0] for c in group)
        lon = sum(cells[c][1] for c in group) / count
        lat = sum(cells[c][2] for c in group) / count
        e = extents[index]
        radius = max(_metres(lon, lat, e[0], e[2]), _metres(lon, lat, e[1], e[3])) if e[0] <= e[1] else 0.0
        road = _top(roads[index])
        community = names["area"].get(_top(communities[index]))
        category = names["category"].get(_top(categories[index]))
        label = "·".join(part for part in (road, community.name if community else None) if part) or scope.area.name
        found.append(
            {
                "id": index + 1,
                "lon": round(lon, 6),
                "lat": round(lat, 6),
                "count": count,
                "radius_m": max(round(radius), CLUSTER_CELL_METRES // 2),
                "name": label,
                "road": road,
                "community": unit_ref(community) if community else None,
                "top_category": {"key": category.code, "label": category.name} if category else None,
                "cells": len(group),
            }
        )
    return found


def _top(counter: Counter):
    if not counter:
        return None
    return min(counter.items(), key=lambda item: (-item[1], str(item[0])))[0]


def _names(ids: set[int]) -> dict[str, dict]:
    from appeals.models import Category  # analytics reads appeals (layers allow it)

    return {
        "area": {a.pk: a for a in Area.objects.filter(pk__in=ids).only("id", "code", "name", "level")},
        "category": {c.pk: c for c in Category.objects.filter(pk__in=ids).only("id", "code", "name")},
    }


def hotspots_section(area: Area, year: int, month: int, *, now: datetime | None = None) -> dict:
    """The report's `hotspots` section for `area` and the month (see the module docstring)."""
    scope = ReportScope.of(area, year, month, now)
    params = scope.params()
    weights = risk_weights()
    # Plain tuples: a district has ~8,000 grids and micro-grids, model instances cost more than the SQL.
    units = [
        _Unit(*row)
        for row in Area.objects.filter(
            path__startswith=area.path, level__in=(AreaLevel.GRID, AreaLevel.MICROGRID)
        ).values_list("id", "code", "name", "level", "parent_id", "households")
    ]
    grids = [u for u in units if u.level == AreaLevel.GRID]
    microgrids = [u for u in units if u.level == AreaLevel.MICROGRID]
    per_microgrid, per_grid, source = _households(area, microgrids)
    grid_sources = {g.pk: source for g in grids if g.pk in per_grid}
    microgrid_sources = {m.pk: source for m in microgrids if m.pk in per_microgrid}

    with transaction.atomic():  # the report's planner and memory settings for its statements
        analytic_session()
        grid_counts, microgrid_counts = _counts(scope, params)
    grid_rows = _unit_rows(grids, grid_counts, per_grid, grid_sources)
    _score(grid_rows, weights)
    _rank(grid_rows)

    # Only micro-grids with petitions can be hot; the ranking shows the top by rate, then repeats.
    active = [m for m in microgrids if microgrid_counts.get(m.pk, {}).get("petitions")]
    microgrid_rows = _unit_rows(active, microgrid_counts, per_microgrid, microgrid_sources)
    _score(microgrid_rows, weights)
    _rank(microgrid_rows)
    microgrid_rows.sort(key=lambda r: r["rank_per_1000"])
    microgrid_rows = microgrid_rows[:MICROGRIDS_SHOWN]

    return {
        "grids": grid_rows,
        "microgrids": microgrid_rows,
        "clusters": clusters(scope, params),
        "risk_weights": weights,
        "households_source": source,
        "cluster_method": {
            "kind": "grid_cell",
            "cell_m": CLUSTER_CELL_METRES,
            "min_points": CLUSTER_MIN_POINTS,
            "density_factor": CLUSTER_DENSITY_FACTOR,
        },
    }
