"""The demo district generator: Shibei's counts, consistent levels, determinism, exact tiling."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from shapely.strtree import STRtree

from grids.demo import DISTRICT_CODE, STREET_NAMES, AreaSpec, generate_areas, level_counts
from grids.models import AreaLevel
from grids.spatial import MicrogridIndex


@pytest.fixture(scope="module")
def full() -> list[AreaSpec]:
    return generate_areas(seed=2024, scale=1.0)


@pytest.fixture(scope="module")
def small() -> list[AreaSpec]:
    return generate_areas(seed=2024, scale=0.01)


def _children(specs: list[AreaSpec]) -> dict[str, list[AreaSpec]]:
    children: dict[str, list[AreaSpec]] = defaultdict(list)
    for spec in specs:
        if spec.parent_code:
            children[spec.parent_code].append(spec)
    return children


def test_it_has_shibeis_counts_at_scale_one(full):
    counts = Counter(spec.level for spec in full)
    assert counts == {
        AreaLevel.DISTRICT: 1,
        AreaLevel.STREET: 22,
        AreaLevel.COMMUNITY: 137,
        AreaLevel.GRID: 940,
        AreaLevel.MICROGRID: 7082,
    }


@pytest.mark.parametrize("scale", [0.001, 0.01, 0.02, 0.3, 2.0])
def test_it_scales_counts_and_gives_every_parent_a_child(scale):
    specs = generate_areas(seed=1, scale=scale)
    counts = Counter(spec.level for spec in specs)
    assert counts == {AreaLevel.DISTRICT: 1, **level_counts(scale)}
    assert counts[AreaLevel.STREET] >= 1
    children = _children(specs)
    for spec in specs:
        if spec.level != AreaLevel.MICROGRID:
            assert children[spec.code], spec.code


def test_it_scales_proportionally():
    assert level_counts(0.5) == {
        AreaLevel.STREET: 11,
        AreaLevel.COMMUNITY: 68,
        AreaLevel.GRID: 470,
        AreaLevel.MICROGRID: 3541,
    }
    assert level_counts(10)[AreaLevel.MICROGRID] == 70820


def test_it_rejects_a_scale_that_is_not_positive():
    with pytest.raises(ValueError):
        generate_areas(scale=0)


def test_it_keeps_levels_parents_and_codes_consistent(full):
    by_code = {spec.code: spec for spec in full}
    assert len(by_code) == len(full)
    assert full[0].code == DISTRICT_CODE and full[0].parent_code is None
    for spec in full[1:]:
        parent = by_code[spec.parent_code]
        assert parent.level == spec.level - 1
        assert spec.code.startswith(parent.code) and len(spec.code) == len(parent.code) + 3
    # Parents come before their children, so a writer can go in list order.
    seen: set[str] = set()
    for spec in full:
        assert spec.parent_code is None or spec.parent_code in seen
        seen.add(spec.code)


def test_it_names_areas_like_shibei(full):
    by_level: dict[int, list[AreaSpec]] = defaultdict(list)
    for spec in full:
        by_level[spec.level].append(spec)
    assert [spec.name for spec in by_level[AreaLevel.STREET]] == STREET_NAMES
    communities = [spec.name for spec in by_level[AreaLevel.COMMUNITY]]
    assert len(set(communities)) == len(communities)
    assert all(name.endswith("社区") for name in communities)
    community_name = {spec.code: spec.name for spec in by_level[AreaLevel.COMMUNITY]}
    for grid in by_level[AreaLevel.GRID]:
        assert grid.name.startswith(community_name[grid.parent_code])
        assert grid.name.endswith("网格") and "第" in grid.name
    for microgrid in by_level[AreaLevel.MICROGRID]:
        assert microgrid.name.endswith(("号院", "号楼"))


def test_it_gives_households_only_to_microgrids(full):
    for spec in full:
        if spec.level == AreaLevel.MICROGRID:
            assert 30 <= spec.households <= 100
        else:
            assert spec.households is None


def test_it_is_deterministic_for_a_seed():
    assert generate_areas(seed=7, scale=0.05) == generate_areas(seed=7, scale=0.05)
    assert generate_areas(seed=7, scale=0.05) != generate_areas(seed=8, scale=0.05)


def test_it_does_not_touch_the_global_random_generator():
    random.seed(99)
    expected = random.random()
    random.seed(99)
    generate_areas(seed=3, scale=0.01)
    assert random.random() == expected


@pytest.mark.parametrize("scale", [0.01, 1.0])
def test_it_tiles_the_district_with_microgrids(scale, full, small):
    specs = full if scale == 1.0 else small
    district = shape(specs[0].boundary)
    microgrids = [shape(spec.boundary) for spec in specs if spec.level == AreaLevel.MICROGRID]
    union = shapely.union_all(microgrids)
    assert union.symmetric_difference(district).area < 1e-12
    # Equal areas with a full cover leave no room for an overlap; the tree double-checks.
    assert abs(sum(polygon.area for polygon in microgrids) - district.area) < 1e-12
    pairs = STRtree(microgrids).query(microgrids, predicate="overlaps")
    assert pairs.shape[1] == 0


def test_it_tiles_every_parent_with_its_children(full):
    geometry = {spec.code: shape(spec.boundary) for spec in full}
    for parent_code, children in _children(full).items():
        parent = geometry[parent_code]
        child_shapes = [geometry[child.code] for child in children]
        assert all(parent.covers(child) for child in child_shapes), parent_code
        assert abs(sum(child.area for child in child_shapes) - parent.area) < 1e-15, parent_code
        assert shapely.union_all(child_shapes).symmetric_difference(parent).area < 1e-15, parent_code


def test_it_shares_bit_identical_edges_between_neighbours(full):
    microgrids = [spec for spec in full if spec.level == AreaLevel.MICROGRID]
    for spec in microgrids:
        for lon, lat in spec.boundary["coordinates"][0]:
            assert round(lon, 7) == lon and round(lat, 7) == lat


def test_it_puts_every_random_point_in_exactly_one_microgrid(full):
    district = shape(full[0].boundary)
    x0, y0, x1, y1 = district.bounds
    rng = np.random.default_rng(2024)
    points = shapely.points(rng.uniform(x0, x1, 2000), rng.uniform(y0, y1, 2000))
    microgrids = [shape(spec.boundary) for spec in full if spec.level == AreaLevel.MICROGRID]
    point_index, _polygon_index = STRtree(microgrids).query(points, predicate="within")
    assert np.bincount(point_index, minlength=len(points)).tolist() == [1] * len(points)


def test_it_gives_a_point_on_a_shared_edge_to_the_smallest_code(full):
    microgrids = [spec for spec in full if spec.level == AreaLevel.MICROGRID]
    index = MicrogridIndex(
        [(pk, spec.code, f"{spec.code}/", spec.boundary) for pk, spec in enumerate(microgrids, start=1)], revision=1
    )
    first = shape(microgrids[0].boundary)
    _minx, miny, maxx, maxy = first.bounds
    edge_point = shapely.Point(maxx, (miny + maxy) / 2)
    covering = sorted(spec.code for spec in microgrids if shape(spec.boundary).covers(edge_point))
    assert len(covering) >= 2
    assert index.locate(edge_point.x, edge_point.y).code == covering[0]
