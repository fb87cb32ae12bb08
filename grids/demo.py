"""A demo district shaped like Shibei, Qingdao: a deterministic area tree and its fast DB writer.

`generate_areas` is pure (no DB): the district rectangle is split recursively into streets,
communities, grids and micro-grids. Every cut coordinate is rounded once and then shared by the
two rectangles on either side, so siblings meet on bit-identical edges and the children of every
area tile it exactly: no gap, no overlap. `seed_areas` writes the specs with bulk inserts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grids.models import Area, AreaLevel
from grids.services import boundary_revision_bump

DISTRICT_CODE = "370203"
DISTRICT_NAME = "市北区"
# Roughly Shibei's extent (WGS84 lon/lat).
DISTRICT_BOUNDS = (120.33, 36.06, 120.43, 36.13)
# Shibei's published counts below the district; `scale` multiplies them.
LEVEL_COUNTS: dict[int, int] = {
    AreaLevel.STREET: 22,
    AreaLevel.COMMUNITY: 137,
    AreaLevel.GRID: 940,
    AreaLevel.MICROGRID: 7082,
}
CHILD_LEVELS = (AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID, AreaLevel.MICROGRID)
HOUSEHOLDS_RANGE = (30, 100)
COORDINATE_DIGITS = 7
# How far (as a share of the even position) a cut may wander, so areas are not a regular lattice.
CUT_JITTER = 0.2
AREA_BATCH_SIZE = 1000
# A degree of longitude is shorter than one of latitude at 36°N; cuts go across the longer side.
_LON_FACTOR = math.cos(math.radians(36.1))

STREET_NAMES = [
    "台东街道",
    "辽宁路街道",
    "登州路街道",
    "宁夏路街道",
    "敦化路街道",
    "海伦路街道",
    "浮山新区街道",
    "阜新路街道",
    "水清沟街道",
    "洛阳路街道",
    "河西街道",
    "兴隆路街道",
    "即墨路街道",
    "合肥路街道",
    "大港街道",
    "湖岛街道",
    "小港街道",
    "辽源路街道",
    "延安路街道",
    "镇江路街道",
    "四方街道",
    "双山街道",
]
# Qingdao names its old-town roads after Chinese cities and provinces; hills and villages fill in.
PLACE_ROOTS = [
    "嘉定",
    "华阳",
    "延安",
    "威海",
    "抚顺",
    "南京",
    "山东",
    "昌乐",
    "长春",
    "顺兴",
    "桑梓",
    "商河",
    "瑞昌",
    "标山",
    "错埠岭",
    "伊春",
    "黑龙江",
    "鞍山",
    "福州",
    "吉林",
    "黄台",
    "热河",
    "兴安",
    "辽源",
    "大连",
    "哈尔滨",
    "镇江",
    "洛阳",
    "开封",
    "平度",
    "莱芜",
    "寿光",
    "夏庄",
    "重庆",
    "四流",
    "杭州",
    "郑州",
    "沈阳",
    "长沙",
    "清江",
    "人民",
    "和兴",
    "芙蓉",
    "水清沟",
    "小村庄",
    "馆陶",
    "聊城",
    "埕口",
    "乐陵",
    "德平",
    "临淄",
    "博兴",
    "东光",
    "孟庄",
    "宜昌",
    "萍乡",
    "惠民",
    "泰山",
    "崂山",
    "浮山",
    "太平",
    "仲家洼",
    "湖岛",
    "海岸",
    "华严",
    "敦化",
    "宁德",
    "温州",
]
PLACE_SUFFIXES = ["路", "山", "里", "新村", "花园", "东", "西", "南", "北", "苑"]
ROAD_SUFFIXES = ("路", "东", "西", "南", "北")


@dataclass(frozen=True)
class AreaSpec:
    code: str
    name: str
    level: int
    parent_code: str | None
    boundary: dict
    households: int | None = None


@dataclass(frozen=True)
class _Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    def polygon(self) -> dict:
        x0, y0, x1, y1 = self.x0, self.y0, self.x1, self.y1
        return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def level_counts(scale: float = 1.0) -> dict[int, int]:
    """How many areas each level below the district gets: proportional, every parent ≥ 1 child."""
    if scale <= 0:
        raise ValueError("scale must be positive.")
    counts: dict[int, int] = {}
    parents = 1
    for level in CHILD_LEVELS:
        counts[level] = max(parents, round(LEVEL_COUNTS[level] * scale))
        parents = counts[level]
    return counts


def _distribute(total: int, parents: int, rng: random.Random) -> list[int]:
    """Split `total` children among `parents`, each at least one, sizes varying like real areas."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parents)]
    spare = total - parents
    weight_sum = sum(weights)
    shares = [spare * w / weight_sum for w in weights]
    counts = [1 + int(share) for share in shares]
    # Largest remainder, ties by position, so the split is exact and deterministic.
    leftover = total - sum(counts)
    order = sorted(range(parents), key=lambda i: (-(shares[i] - int(shares[i])), i))
    for i in order[:leftover]:
        counts[i] += 1
    return counts


def _cut(low: float, high: float, fraction: float, rng: random.Random) -> float:
    jittered = fraction * (1 + rng.uniform(-CUT_JITTER, CUT_JITTER))
    jittered = min(max(jittered, 0.05), 0.95)
    value = round(low + (high - low) * jittered, COORDINATE_DIGITS)
    if not low < value < high:
        value = round(low + (high - low) * fraction, COORDINATE_DIGITS)
    if not low < value < high:
        raise ValueError("The area is too small to split at this scale.")
    return value


def _split(rect: _Rect, pieces: int, rng: random.Random) -> list[_Rect]:
    """Tile `rect` with `pieces` rectangles, halving across the longer side each time."""
    if pieces == 1:
        return [rect]
    first = pieces // 2
    fraction = first / pieces
    if (rect.x1 - rect.x0) * _LON_FACTOR >= rect.y1 - rect.y0:
        x = _cut(rect.x0, rect.x1, fraction, rng)
        left, right = _Rect(rect.x0, rect.y0, x, rect.y1), _Rect(x, rect.y0, rect.x1, rect.y1)
    else:
        y = _cut(rect.y0, rect.y1, fraction, rng)
        left, right = _Rect(rect.x0, rect.y0, rect.x1, y), _Rect(rect.x0, y, rect.x1, rect.y1)
    return _split(left, first, rng) + _split(right, pieces - first, rng)


def _unique_names(wanted: int, pool: Sequence[str], suffix: str) -> list[str]:
    names = [f"{root}{suffix}" for root in pool[:wanted]]
    # Beyond the pool (benchmark scales) names get an ordinal, still unique.
    extra = wanted - len(names)
    names += [f"{pool[i % len(pool)]}{i // len(pool) + 2}{suffix}" for i in range(extra)]
    return names


def _street_names(count: int, rng: random.Random) -> list[str]:
    pool = [name.removesuffix("街道") for name in STREET_NAMES]
    if count > len(pool):
        extra = [f"{root}路" for root in PLACE_ROOTS if f"{root}路" not in pool]
        rng.shuffle(extra)
        pool += extra
    return _unique_names(count, pool, "街道")


def _community_names(count: int, rng: random.Random) -> list[str]:
    pool = [f"{root}{suffix}" for root in PLACE_ROOTS for suffix in PLACE_SUFFIXES]
    rng.shuffle(pool)
    return _unique_names(count, pool, "社区")


def _road_of(community_name: str, rng: random.Random) -> str:
    stem = community_name.removesuffix("社区")
    for root in PLACE_ROOTS:
        if stem.startswith(root) and stem[len(root) :] in ROAD_SUFFIXES:
            return f"{root}路"
    return f"{rng.choice(PLACE_ROOTS)}路"


def _child_codes(parent_code: str, count: int) -> list[str]:
    width = max(3, len(str(count)))
    return [f"{parent_code}{i:0{width}d}" for i in range(1, count + 1)]


def _microgrid_name(community_name: str, state: dict[str, tuple[str, int]], rng: random.Random) -> str:
    """A yard on the community's road or a numbered building; numbers only grow within a community."""
    road, number = state.get(community_name) or (_road_of(community_name, rng), 0)
    number += rng.randint(1, 3)
    state[community_name] = (road, number)
    if rng.random() < 0.5:
        return f"{road}{number}号院"
    return f"{community_name}{number}号楼"


def generate_areas(*, seed: int = 2024, scale: float = 1.0) -> list[AreaSpec]:
    """The demo district's areas in level order (parents before children), deterministic per seed."""
    rng = random.Random(seed)
    counts = level_counts(scale)
    district_rect = _Rect(*DISTRICT_BOUNDS)
    specs = [AreaSpec(DISTRICT_CODE, DISTRICT_NAME, AreaLevel.DISTRICT, None, district_rect.polygon())]
    parents: list[tuple[str, _Rect]] = [(DISTRICT_CODE, district_rect)]
    street_names = _street_names(counts[AreaLevel.STREET], rng)
    community_names = _community_names(counts[AreaLevel.COMMUNITY], rng)
    name_of: dict[str, str] = {}
    community_of: dict[str, str] = {}
    microgrid_naming: dict[str, tuple[str, int]] = {}

    for level in CHILD_LEVELS:
        sizes = _distribute(counts[level], len(parents), rng)
        children: list[tuple[str, _Rect]] = []
        for (parent_code, parent_rect), size in zip(parents, sizes, strict=True):
            rects = _split(parent_rect, size, rng)
            for n, (code, rect) in enumerate(zip(_child_codes(parent_code, size), rects, strict=True), start=1):
                households = None
                if level == AreaLevel.STREET:
                    name = street_names[len(children)]
                elif level == AreaLevel.COMMUNITY:
                    name = community_names[len(children)]
                elif level == AreaLevel.GRID:
                    name = f"{name_of[parent_code]}第{n}网格"
                    community_of[code] = name_of[parent_code]
                else:
                    name = _microgrid_name(community_of[parent_code], microgrid_naming, rng)
                    households = rng.randint(*HOUSEHOLDS_RANGE)
                name_of[code] = name
                children.append((code, rect))
                specs.append(AreaSpec(code, name, level, parent_code, rect.polygon(), households))
        parents = children
    return specs


def seed_areas(specs: Iterable[AreaSpec]) -> int:
    """Write specs (parents before children) with bulk inserts; returns how many areas were written.

    Call inside a transaction. Bumps the boundary revision once, so point indexes rebuild once.
    """
    by_level: dict[int, list[AreaSpec]] = {}
    for spec in specs:
        by_level.setdefault(spec.level, []).append(spec)
    known: dict[str, tuple[int, str]] = {}
    written = 0
    codes: list[str] = []
    for level in sorted(by_level):
        level_specs = by_level[level]
        parent_codes = {spec.parent_code for spec in level_specs if spec.parent_code and spec.parent_code not in known}
        if parent_codes:
            # Parents written earlier (a partial tree): read their id and path once.
            known.update(
                (code, (pk, path))
                for pk, code, path in Area.objects.filter(code__in=parent_codes).values_list("pk", "code", "path")
            )
        rows = []
        for spec in level_specs:
            parent_id, parent_path = known[spec.parent_code] if spec.parent_code else (None, None)
            rows.append(
                Area(
                    code=spec.code,
                    name=spec.name,
                    level=spec.level,
                    parent_id=parent_id,
                    path=Area.build_path(parent_path, spec.code),
                    boundary=spec.boundary,
                    households=spec.households,
                )
            )
        created = Area.objects.bulk_create(rows, batch_size=AREA_BATCH_SIZE)
        if any(area.pk is None for area in created):
            # Backends that cannot return ids from a bulk insert: read them back by code.
            ids = dict(Area.objects.filter(level=level, code__in=[a.code for a in created]).values_list("code", "pk"))
            for area in created:
                area.pk = ids[area.code]
        known.update((area.code, (area.pk, area.path)) for area in created)
        written += len(created)
        codes += [area.code for area in created]
    if written:
        boundary_revision_bump(actor="seed_demo", source="grids.demo", created=codes)
    return written


def delete_areas(district_code: str = DISTRICT_CODE) -> int:
    """Delete a district's whole tree, leaves first (parents are PROTECTed); call in a transaction."""
    district = Area.objects.filter(code=district_code, level=AreaLevel.DISTRICT).first()
    if district is None:
        return 0
    deleted = 0
    codes = list(Area.objects.filter(path__startswith=district.path).values_list("code", flat=True))
    for level in reversed(AreaLevel.values):
        deleted += Area.objects.filter(level=level, path__startswith=district.path).delete()[1].get(Area._meta.label, 0)
    boundary_revision_bump(actor="seed_demo --reset", source="grids.demo", deleted=codes)
    return deleted
