"""Two years of demo petitions for the demo district (a `seed_demo` step).

Span: from the first day of the month HISTORY_MONTHS (24) before the current one up to now, so
the monthly report has the month before and the same month last year for each of the last 12
months it shows.

Volume: Shibei files about 60,000 petitions a year; the demo writes DEFAULT_PETITIONS (12,000) in
the last 365 days at scale 1.0 — a fifth of the real figure, enough for every list, chart and risk
map to look lived-in, while `seed_demo` stays within about a minute on a small machine. The older
months get what each topic's `trend` says (the year before had fewer construction-noise
complaints and more heating ones). `--scale` multiplies it.

Speed: nothing goes through the transition services. Each petition's life is simulated in Python
by `_Life`: every step is a move of `appeals.lifecycle.TRANSITIONS` (the new status is the move's
target, and a move the table does not allow raises), writing the same event rows (type, from/to
status, from/to tier, actor, extra) as the service of each step would; it stops where "now" cuts
the story and leaves open petitions with the clock `start_clock` would have set. The history rows
(each event's deadlines and on-time flag, handling rounds, ratings) are then derived from the
timeline by `appeals.history.replay`, the derivation a test checks against the services. Rows are
written with bulk inserts in batches, and the database's event constraint (generated from the same
table) refuses any event that is not a legal move. Notifications are not written: they would all
have been sent long ago.

Shape: categories follow seasons (street vendors, roadside barbecue and noise peak in June-August,
heating complaints only in the heating season, blocked drains and flooded roads after the summer
rains); a few micro-grids are hotspots and summer night markets; repeat complaints come in clusters
of one category at one place within days and point at their first petition (`repeat_of`), as
`link_repeat` links them. About 97 % of petitions older than a few weeks are resolved, most within
their deadline; the rest are long-running projects supervised at the district.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from appeals.history import Replay, replay
from appeals.lifecycle import check_move
from appeals.models import (
    TIMED_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Callback,
    CallbackResult,
    Category,
    Channel,
    EventType,
    ExtensionRequest,
    ExtensionStatus,
    HandlingMode,
    HandlingRound,
    NeedType,
    Petition,
    PetitionEvent,
    PetitionRating,
    Rating,
    Status,
    Tier,
    Urgency,
)
from appeals.services.deadlines import limits_cache_clear, limits_for, start_clock
from appeals.services.intake import text_similarity
from appeals.taxonomy import categories_link_departments, categories_seed
from governance.models import Department, Role, StaffPost
from governance.workcalendar import CALENDAR_TZ, TimeUnit, deadline_after
from grids.models import Area, AreaLevel
from residents.models import Resident, ResidentStatus

# Petitions in the last 365 days at scale 1.0.
DEFAULT_PETITIONS = 12_000
# History starts on the first day of the month this many months before the current one.
HISTORY_MONTHS = 24
INSERT_BATCH_SIZE = 2_000
# Share of micro-grids that draw many more petitions (a risk map needs hot spots).
HOTSPOT_SHARE = 0.015
HOTSPOT_WEIGHT = 12
NIGHT_MARKETS = 12
# Petitions filed this recently are handled at a slower pace, so lists show work in hand.
RECENT = timedelta(days=10)
# 分派 in a department with several handlers: the share of parts left unassigned, and reassigned.
DEMO_UNASSIGNED_SHARE = 0.25
DEMO_REASSIGNED_SHARE = 0.12

CHANNEL_WEIGHTS = {
    Channel.MOBILE: 55,
    Channel.HOTLINE: 25,
    Channel.PATROL: 12,
    Channel.DOORPLATE: 5,
    Channel.STAFF: 2,
    Channel.OPEN311: 1,
}

SUMMER, WINTER_HEATING, RAINS, SNOW, SPRING_AUTUMN = "summer", "heating", "rains", "snow", "spring_autumn"
_SEASON_FACTORS = {
    # month → factor
    SUMMER: {1: 0.2, 2: 0.2, 3: 0.35, 4: 0.6, 5: 1.2, 6: 2.6, 7: 3.2, 8: 3.0, 9: 1.4, 10: 0.7, 11: 0.3, 12: 0.2},
    # Qingdao heats from 15 November to 5 April; before the start come the "is it on yet" calls.
    WINTER_HEATING: {1: 2.6, 2: 2.0, 3: 1.2, 4: 0.3, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0.1, 11: 2.4, 12: 3.0},
    RAINS: {1: 0.3, 2: 0.3, 3: 0.5, 4: 0.6, 5: 0.8, 6: 1.2, 7: 2.6, 8: 3.0, 9: 1.8, 10: 0.8, 11: 0.5, 12: 0.4},
    SNOW: {1: 2.5, 2: 1.5, 3: 0.2, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0, 11: 0.3, 12: 2.0},
    SPRING_AUTUMN: {1: 0.6, 2: 0.6, 3: 1.3, 4: 1.5, 5: 1.3, 6: 0.9, 7: 0.8, 8: 0.8, 9: 1.3, 10: 1.5, 11: 1.1, 12: 0.6},
}


@dataclass(frozen=True)
class Topic:
    code: str
    weight: float
    titles: tuple[str, ...]
    descriptions: tuple[str, ...]
    season: str | None = None
    # This year's volume ÷ last year's in the same season: the weight of a day a year back is
    # divided by it (city renewal brings more construction noise; renovated heating, fewer calls).
    trend: float = 1.0
    repeat_share: float = 0.05
    night: bool = False  # filed mostly in the evening
    urgency: str = Urgency.NORMAL
    immediate_share: float = 0.15
    # Share that goes up to the street and is dispatched to departments (吹哨).
    whistle_share: float = 0.06
    replies: tuple[str, ...] = ()


# Placeholders: {place} a micro-grid (yard or building), {road} a road, {community} a community, {n} a number.
TOPICS: tuple[Topic, ...] = (
    Topic(
        "1202",
        9,
        ("{place}下水管堵塞", "{place}下水道堵塞，污水外溢", "{community}{n}号楼下水管堵塞"),
        (
            "{community}{n}号楼下水管堵塞，污水外溢，一楼住户家里进水，请尽快疏通。",
            "{place}单元门口下水井返水，污水流到路面上，味道很大，已经两天了。",
            "{place}楼下主管道堵塞，楼上住户一用水一楼就冒水，希望排水公司来看看。",
        ),
        season=RAINS,
        repeat_share=0.12,
        replies=("已联系排水公司疏通管道，污水已清理，居民确认恢复正常。", "网格员协调物业使用高压车疏通，现已通畅。"),
        trend=0.85,
    ),
    Topic(
        "0605",
        6,
        ("{road}路灯不亮", "{place}门口路灯坏了", "{road}一段路灯夜间不亮"),
        (
            "{road}靠近{place}的一段路灯已经一周不亮了，晚上走路看不见，老人出行不安全。",
            "{place}门口路灯白天亮晚上不亮，请维修。",
        ),
        season=SPRING_AUTUMN,
        repeat_share=0.1,
        replies=("已通知路灯维护单位更换灯具，现已恢复照明。",),
        trend=0.8,
    ),
    Topic(
        "0501",
        7,
        ("{road}占道经营", "{place}门口摊点占用人行道", "{road}早市占道"),
        (
            "{road}人行道上每天早上都有摆摊卖菜的，行人只能走机动车道，很危险。",
            "{place}门口水果摊把货物摆到人行道上，影响通行。",
        ),
        season=SUMMER,
        repeat_share=0.1,
        replies=("执法队员到场劝导摊主退路进店，已恢复通行，将加强巡查。",),
    ),
    Topic(
        "0502",
        5,
        ("{road}游商浮贩聚集", "{place}附近流动摊贩", "{road}晚上游商扰民"),
        (
            "每天傍晚{road}有很多流动摊贩，叫卖声很大，垃圾乱扔，希望管一管。",
            "{place}附近三轮车卖水果的游商堵住路口，车辆进出困难。",
        ),
        season=SUMMER,
        repeat_share=0.1,
        night=True,
        replies=("执法队员已劝离游商，并在夜间增加巡查频次。",),
        trend=1.2,
    ),
    Topic(
        "0107",
        5,
        ("{road}路边烧烤油烟大", "{place}楼下烧烤扰民", "{road}夜间露天烧烤"),
        (
            "{place}楼下烧烤摊每天营业到凌晨，油烟直接飘进家里，还很吵，无法休息。",
            "{road}路边露天烧烤，桌椅摆到人行道，油烟和噪音都很大。",
        ),
        season=SUMMER,
        repeat_share=0.15,
        night=True,
        replies=("已责令商户停止露天烧烤，桌椅收回店内，后续将持续巡查。",),
        trend=1.25,
    ),
    Topic(
        "0301",
        6,
        ("{road}工地夜间施工噪音", "{place}附近施工扰民", "{road}工地半夜还在施工"),
        (
            "{road}工地晚上十点以后还在施工，噪音很大，孩子没法睡觉。",
            "{place}旁边的工地早上六点就开始打桩，严重扰民。",
        ),
        season=SUMMER,
        repeat_share=0.15,
        night=True,
        whistle_share=0.2,
        replies=("住建部门已约谈施工单位，夜间停止高噪音作业，并公示施工时间。",),
        trend=1.6,
    ),
    Topic(
        "1501",
        5,
        ("{place}楼上噪音扰民", "{community}广场舞音响太吵", "{place}夜间噪音"),
        (
            "{place}楼上每天晚上十一点以后还有很大的动静，多次沟通无果。",
            "{community}小广场广场舞音响声音太大，一直到晚上九点半。",
        ),
        season=SUMMER,
        night=True,
        replies=("社区已上门协调，双方达成一致，音响音量已调低。",),
    ),
    Topic(
        "1301",
        7,
        ("{place}暖气不热", "{community}{n}号楼室温不达标", "{place}暖气漏水"),
        (
            "{place}家里暖气片是凉的，室温只有十四度，老人孩子受不了。",
            "{community}{n}号楼整栋楼暖气不热，已经给供热公司打过电话，还没人来。",
            "{place}暖气管道接口漏水，地板都泡了。",
        ),
        season=WINTER_HEATING,
        repeat_share=0.12,
        immediate_share=0.3,
        replies=("供热公司已上门排气、清洗过滤器，复测室温19度，达标。",),
        trend=0.75,
    ),
    Topic(
        "0601",
        4,
        ("{road}井盖缺失", "{place}门口井盖破损", "{road}井盖松动有响声"),
        (
            "{road}靠近{place}的井盖缺失，只放了个锥桶，晚上很危险。",
            "{place}门口井盖破了一个角，车一压就响。",
        ),
        urgency=Urgency.URGENT,
        immediate_share=0.4,
        replies=("已设置警示并更换井盖，隐患消除。",),
    ),
    Topic(
        "1901",
        3,
        ("{community}流浪狗聚集", "{place}附近流浪狗伤人隐患", "{place}流浪猫狗太多"),
        (
            "{community}小区里有四五条流浪狗，晚上乱叫，还追着孩子跑。",
            "{place}附近有流浪狗，已经咬过一个路人，希望尽快处理。",
        ),
        repeat_share=0.1,
        replies=("已联系专业人员将流浪犬收容，并提醒居民不要随意投喂。",),
    ),
    Topic(
        "0606",
        3,
        ("{place}消防通道被堵", "{community}消防通道停满车辆", "{place}消火栓损坏"),
        (
            "{place}消防通道被私家车长期占用，消防车根本进不来。",
            "{community}{n}号楼消火栓箱门坏了，里面的水带也没有了。",
        ),
        replies=("已通知车主挪车并施划禁停标线，物业加强巡查。",),
    ),
    Topic(
        "0701",
        5,
        ("{place}电动车乱停放", "{place}楼道电动车充电", "{community}飞线充电"),
        (
            "{place}单元门口电动车停得满满的，轮椅都推不出来。",
            "{community}{n}号楼有人把电动车推进楼道充电，存在火灾隐患。",
        ),
        replies=("已劝导车主将电动车停放至集中充电车棚，楼道已清理。",),
        trend=1.3,
    ),
    Topic(
        "0702",
        4,
        ("{road}机动车乱停放", "{place}门口车辆堵路"),
        ("{road}两侧双排停车，公交车都过不去。", "{place}门口有车辆长期停放，堵住了出入口。"),
        trend=1.3,
    ),
    Topic(
        "0704",
        3,
        ("{road}路面坑洼", "{road}人行道板松动"),
        ("{road}路面有个大坑，下雨积水看不见，已经有人摔倒。", "{place}门口人行道板松动，踩上去溅一身水。"),
        season=RAINS,
        whistle_share=0.12,
    ),
    Topic(
        "0101",
        5,
        ("{place}垃圾堆积", "{community}垃圾桶满溢"),
        ("{place}门口垃圾三天没人清运，气味很大。", "{community}{n}号楼旁的垃圾桶每天都满出来，苍蝇很多。"),
        season=SUMMER,
        immediate_share=0.3,
    ),
    Topic(
        "0102",
        2,
        ("{place}建筑垃圾堆放", "{community}装修垃圾乱堆"),
        ("{place}楼下有人堆放装修垃圾，已经半个月了。",),
    ),
    Topic(
        "0504",
        3,
        ("{place}公共区域乱堆杂物", "{road}人行道堆放物料"),
        ("{place}楼道和楼下堆满了废品纸箱，影响通行也有火灾隐患。",),
    ),
    Topic(
        "0201",
        2,
        ("{place}小广告乱贴", "{road}电线杆小广告"),
        ("{place}单元门、电线杆上贴满了开锁、办证的小广告。",),
    ),
    Topic(
        "1101",
        5,
        ("{community}物业不作为", "{place}物业服务差"),
        (
            "{community}物业费照收，楼道没人打扫，门禁坏了一个月没人修。",
            "{place}物业对业主反映的问题一直拖着不处理。",
        ),
        whistle_share=0.1,
    ),
    Topic(
        "1102",
        2,
        ("{place}电梯经常故障", "{community}{n}号楼电梯停运"),
        ("{community}{n}号楼电梯一周坏了三次，有一次还困人了。",),
        urgency=Urgency.URGENT,
    ),
    Topic(
        "1201",
        3,
        ("{place}停水", "{community}水压低"),
        ("{place}突然停水，没有提前通知，家里老人做不了饭。", "{community}高层住户水压太低，晚上洗不了澡。"),
        season=SUMMER,
    ),
    Topic("1401", 2, ("{place}燃气异味", "{community}燃气表故障"), ("{place}楼道里有燃气味，担心泄漏。",)),
    Topic("1402", 2, ("{place}频繁停电", "{community}电压不稳"), ("{place}这个月已经停电三次了。",), season=SUMMER),
    Topic(
        "1601",
        3,
        ("{place}楼上漏水邻里纠纷", "{community}邻居占用公共空间"),
        ("{place}楼上卫生间漏水到我家，协商多次对方不处理。", "{community}{n}号楼邻居在楼道里堆放杂物，沟通无果。"),
        whistle_share=0.02,
    ),
    Topic(
        "1701",
        3,
        ("咨询{community}低保申请", "{community}高龄补贴办理", "{place}独居老人需要帮助"),
        ("家里老人八十多岁，想问一下高龄补贴怎么办理。", "{place}有独居老人行动不便，希望社区上门看看。"),
        immediate_share=0.3,
    ),
    Topic("1702", 2, ("咨询社保缴纳", "灵活就业社保补贴"), ("想咨询一下灵活就业人员社保补贴的申请条件。",)),
    Topic("1801", 1.5, ("{community}卫生服务站预约", "咨询疫苗接种"), ("想问问{community}附近卫生服务站的接种时间。",)),
    Topic("0901", 2, ("{road}树枝遮挡", "{place}树木需要修剪"), ("{place}楼前的树枝已经伸到窗户里了，挡光还招虫。",)),
    Topic(
        "0404", 1.5, ("{road}路面积水", "{road}涵洞积水"), ("下大雨后{road}积水没过脚踝，车辆通行困难。",), season=RAINS
    ),
    Topic(
        "0405",
        1,
        ("{road}路面结冰", "{place}门口积雪未清"),
        ("{road}坡道结冰，已经有老人滑倒。",),
        season=SNOW,
        urgency=Urgency.URGENT,
    ),
    Topic("0109", 2, ("{place}餐饮油烟扰民",), ("{place}楼下饭店油烟直排，家里不敢开窗。",), season=SUMMER),
    Topic(
        "0304", 1.5, ("{road}工地扬尘",), ("{road}工地土方没有覆盖，刮风时尘土飞扬。",), season=SPRING_AUTUMN, trend=1.4
    ),
    Topic(
        "1003",
        1,
        ("{place}外墙脱落", "{community}老旧小区改造"),
        ("{place}外墙瓷砖脱落，下面就是人行道，很危险。",),
        whistle_share=0.3,
    ),
    Topic("1001", 1, ("{place}违章搭建",), ("{place}一楼住户在院子里私自搭建彩钢房。",), whistle_share=0.3),
    Topic("1902", 1.5, ("{place}遛狗不拴绳",), ("{place}小区里经常有人遛狗不拴绳，孩子很害怕。",)),
    Topic("1802", 1, ("{community}老鼠多",), ("{community}垃圾站附近老鼠很多，希望消杀。",), season=SUMMER),
)

RETURN_REASONS = ("该地址不在本网格范围，请重新派单。", "经核实问题位于相邻网格。")
ESCALATE_NOTES = {
    Tier.GRID: ("网格协调无果，需社区出面。", "涉及多户居民，网格无法单独解决。"),
    Tier.COMMUNITY: ("涉及职能部门，请街道协调。", "社区多次协调未果，提请街道吹哨。"),
}
EXTENSION_REASONS = ("需协调产权单位，施工需要时间。", "等待配件到货后维修。", "涉及多个部门，需会商后处理。")
PROGRESS_NOTES = ("已到现场核实情况。", "已联系相关单位，正在处理。")
DEFAULT_REPLIES = ("经现场核实，问题已处理完毕。", "已协调相关单位处理，居民表示认可。")
CALLBACK_NOTES = {
    CallbackResult.SATISFIED: "回访居民，对处理结果满意。",
    CallbackResult.BASIC: "回访居民，表示基本满意。",
    CallbackResult.UNSATISFIED: "回访居民，仍不满意，已说明情况并记录。",
    CallbackResult.UNREACHABLE: "电话无人接听。",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
# Hour-of-day weights (Beijing time) for daytime and evening complaints.
DAY_HOURS = (1, 0.5, 0.3, 0.3, 0.3, 0.6, 2, 5, 9, 11, 11, 9, 6, 6, 9, 10, 10, 9, 7, 6, 5, 4, 3, 2)
NIGHT_HOURS = (5, 3, 1.5, 0.5, 0.3, 0.3, 0.6, 1.5, 3, 4, 4, 4, 3, 3, 4, 4, 5, 6, 7, 9, 11, 12, 11, 8)
WEEKDAY_FACTORS = (1.1, 1.05, 1.0, 1.0, 1.0, 0.85, 0.8)


@dataclass(slots=True)
class _Event:
    """A PetitionEvent's values while the story is told: what `replay` reads and `_write` inserts.

    Two years of demo history are ~180,000 events; a model instance each cost more than its row.
    """

    type: str
    actor_id: int | None
    actor_label: str
    from_status: str
    to_status: str
    from_tier: int | None
    to_tier: int | None
    note: str
    extra: dict
    created_at: datetime
    deadline_in_force: datetime | None = None
    deadline_after: datetime | None = None
    on_time: bool | None = None
    link: tuple | None = None  # (root plan, matched plan) of a repeat_linked event


class _Stop(Exception):
    """The story has reached the present: the petition stays where it is."""


@dataclass
class _Place:
    microgrid: Area
    grid: Area
    community: Area
    street: Area
    bbox: tuple[float, float, float, float]
    road: str


@dataclass(repr=False)
class _World:
    district: Area
    places: list[_Place]
    weights: list[float]
    night_markets: list[int]
    siblings: dict[int, list[Area]]  # community id → its grids
    users: dict[str, int]
    departments: dict[str, int]  # code suffix → id
    categories: dict[str, Category]
    area_ids: dict[str, int]  # code → id, for the handling rounds
    # 分派: department id → (its leader's username, its handlers' usernames), where it has several.
    assigners: dict[int, tuple[str, list[str]]] = field(default_factory=dict)


def _bbox(boundary: dict | None) -> tuple[float, float, float, float]:
    ring = (boundary or {}).get("coordinates", [[[0, 0]]])[0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def _road(name: str, community: str) -> str:
    """The road of a micro-grid named "<road>12号院", else one named after its community."""
    if "路" in name and name.endswith("号院"):
        return name[: name.index("路") + 1]
    stem = community.removesuffix("社区")
    return stem if stem.endswith("路") else f"{stem.rstrip('东西南北')}路"


def _load_world(district: Area, rng: random.Random) -> _World:
    areas = {a.pk: a for a in Area.objects.filter(path__startswith=district.path).only(*_AREA_FIELDS)}
    places = []
    for area in sorted(areas.values(), key=lambda a: a.path):
        if area.level != AreaLevel.MICROGRID:
            continue
        grid = areas[area.parent_id]
        community = areas[grid.parent_id]
        street = areas[community.parent_id]
        places.append(_Place(area, grid, community, street, _bbox(area.boundary), _road(area.name, community.name)))
    if not places:
        raise ValueError("The district has no micro-grids; seed the area tree first.")
    hot = set(rng.sample(range(len(places)), max(1, round(len(places) * HOTSPOT_SHARE))))
    weights = [(p.microgrid.households or 60) * (HOTSPOT_WEIGHT if i in hot else 1) for i, p in enumerate(places)]
    siblings: dict[int, list[Area]] = {}
    for area in areas.values():
        if area.level == AreaLevel.GRID:
            siblings.setdefault(area.parent_id, []).append(area)
    # Bulk demo usernames are a role prefix and the area or department code (governance.demo).
    prefixes = ("gw", "cw", "cs", "sc", "dc", "dh")
    users = {name: pk for name, pk in get_user_model().objects.values_list("username", "pk") if name[:2] in prefixes}
    assigners = _assigners(district, users)
    departments = {}
    for code, pk in Department.objects.filter(is_active=True).order_by("-code").values_list("code", "pk"):
        departments[code.rsplit("-", 1)[-1]] = pk
    return _World(
        district=district,
        places=places,
        weights=weights,
        night_markets=rng.sample(range(len(places)), min(NIGHT_MARKETS, len(places))),
        siblings=siblings,
        users=users,
        departments=departments,
        categories={c.code: c for c in Category.objects.filter(parent__isnull=False)},
        area_ids={a.code: a.pk for a in areas.values()},
        assigners=assigners,
    )


def _assigners(district: Area, users: dict[str, int]) -> dict[int, tuple[str, list[str]]]:
    """The departments with several handlers, their leader (the `deptlead` account first) and handlers.

    Adds the demo department accounts to `users`, so their events name them.
    """
    staff: dict[int, dict[str, list[str]]] = {}
    for department_id, role, username, pk in (
        StaffPost.objects.filter(department__district=district, is_active=True)
        .order_by("user__username")
        .values_list("department_id", "role", "user__username", "user_id")
    ):
        staff.setdefault(department_id, {}).setdefault(role, []).append(username)
        users.setdefault(username, pk)
    found = {}
    for department_id, roles in staff.items():
        handlers, leaders = roles.get(Role.DEPARTMENT_HANDLER, []), roles.get(Role.DEPARTMENT_LEADER, [])
        if len(handlers) > 1 and leaders:
            found[department_id] = ("deptlead" if "deptlead" in leaders else leaders[0], handlers)
    return found


_AREA_FIELDS = ("pk", "code", "name", "level", "parent_id", "path", "boundary", "households")


@dataclass(repr=False)
class _Life:
    """One petition's story, applied step by step as the services would, up to `now`."""

    petition: Petition
    world: _World
    rng: random.Random
    now: datetime
    events: list[_Event] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    extensions: list[ExtensionRequest] = field(default_factory=list)
    at: datetime | None = None
    clock: tuple[str, datetime] | None = None
    # The deadline an extension granted for the current clock (the clock's own otherwise).
    extended_to: datetime | None = None
    history: Replay | None = None

    # --- plumbing ---------------------------------------------------------------------------

    def advance(self, delta: timedelta) -> datetime:
        at = self.at + delta
        if at > self.now:
            raise _Stop
        self.at = at
        return at

    def record(self, event_type: str, *, move: str | None, actor: str = "", label: str = "", **values: Any) -> None:
        """Take `move` of the transition table (its target is the new status) and write its event.

        `move=None` only for the submission, which starts the timeline.
        """
        actor_id = self.world.users.get(actor) if actor else None
        p = self.petition
        if move is None:
            from_status = ""
        else:
            from_status = p.status
            p.status = check_move(from_status, move).target_from(from_status)
        self.events.append(
            _Event(
                type=event_type,
                actor_id=actor_id,
                actor_label=label or ("" if actor_id else "system"),
                from_status=from_status,
                to_status=p.status,
                from_tier=values.pop("from_tier", None),
                to_tier=p.tier,
                note=values.pop("note", ""),
                extra=values.pop("extra", {}),
                created_at=self.at,
            )
        )

    def start(self, phase: str) -> None:
        self.clock = (phase, self.at)
        self.extended_to = None
        self.petition.clock_started_at = self.at

    def limit_deadline(self, phase: str, start: datetime) -> datetime:
        p = self.petition
        return _deadline(p, phase, p.tier or Tier.GRID, p.handling_mode, start)

    def within(self, phase: str, *, early: bool = True) -> timedelta:
        """A delay that mostly ends well before the current clock's deadline."""
        deadline = self.limit_deadline(phase, self.at)
        span = max((deadline - self.at).total_seconds(), 600)
        if self.now - self.petition.created_at < RECENT:
            early = False  # the last days' petitions are still in hand
        fraction = self.rng.betavariate(1.3, 4) if early else self.rng.uniform(0.3, 0.95)
        return timedelta(seconds=max(120, span * fraction))

    def handler_user(self) -> str:
        p = self.petition
        area = self.area_for(p.tier)
        prefix = {Tier.GRID: "gw", Tier.COMMUNITY: "cw", Tier.STREET: "sc", Tier.DISTRICT: "dc"}[p.tier]
        return f"{prefix}{area.code}"

    def area_for(self, tier: int) -> Area:
        p = self.petition
        return {Tier.GRID: p.grid, Tier.COMMUNITY: p.community, Tier.STREET: p.street}.get(tier, self.world.district)

    # --- steps --------------------------------------------------------------------------------

    def route(self) -> None:
        p = self.petition
        self.advance(timedelta(seconds=self.rng.randint(1, 20)))
        p.tier, p.handler_area = Tier.GRID, p.grid
        self.start("accept")
        self.record(EventType.ROUTED, move="route", extra={"area": p.grid.code, "located": True})

    def link(self, root: _Plan, matched: _Plan) -> None:
        self.petition.repeat_of = root.petition
        self.record(EventType.REPEAT_LINKED, move="link_repeat", extra={"repeat_of": None, "matched": None})
        self.events[-1].link = (root, matched)  # ids are known only after the roots are written

    def return_and_reroute(self) -> None:
        p = self.petition
        others = [g for g in self.world.siblings.get(p.community.pk, []) if g.pk != p.grid.pk]
        if not others:
            return
        self.advance(self.within("accept"))
        p.tier, p.handler_area, self.clock = Tier.COMMUNITY, p.community, None
        self.record(
            EventType.RETURNED,
            move="return",
            from_tier=Tier.GRID,
            actor=f"gw{p.grid.code}",
            note=self.rng.choice(RETURN_REASONS),
        )
        self.advance(timedelta(minutes=self.rng.randint(20, 300)))
        grid = self.rng.choice(others)
        # petition_place with a grid: the location becomes that grid (no micro-grid).
        p.grid, p.microgrid, p.area_path = grid, None, grid.path
        p.tier, p.handler_area, p.escalated_on_deadline = Tier.GRID, grid, False
        self.start("accept")
        self.record(
            EventType.REROUTED,
            move="place",
            from_tier=Tier.COMMUNITY,
            actor=f"cw{p.community.code}",
            note="已核实位置，重新派至所属网格。",
            extra={"area": grid.code},
        )

    def auto_escalate(self) -> None:
        """The sweeper finds the clock run out (it runs every minute)."""
        p = self.petition
        phase, started = self.clock
        deadline = self.limit_deadline(phase, started)
        self.advance(max(deadline - self.at, timedelta(0)) + timedelta(seconds=self.rng.randint(5, 60)))
        from_tier = p.tier
        p.escalated_on_deadline = True
        if p.tier >= Tier.DISTRICT:
            p.supervised, self.clock = True, None
            self.record(
                EventType.AUTO_ESCALATED, move="auto_supervise", from_tier=from_tier, note=gettext("Deadline passed.")
            )
            raise _Stop  # stays supervised at the district
        p.tier = Tier(p.tier + 1)
        area = self.area_for(p.tier)
        if p.status == Status.DISPATCHED:
            move = "auto_supervise"
            p.supervised = True
            self.start("handle")
        else:
            move = "auto_escalate"
            p.handler_area = area
            self.start("accept")
        self.record(
            EventType.AUTO_ESCALATED,
            move=move,
            from_tier=from_tier,
            note=gettext("Deadline passed."),
            extra={"area": area.code},
        )

    def accept(self) -> None:
        p = self.petition
        self.advance(self.within("accept"))
        p.accepted_at = p.accepted_at or self.at
        p.first_response_at = p.first_response_at or self.at
        self.start("handle")
        self.record(EventType.ACCEPTED, move="accept", from_tier=p.tier, actor=self.handler_user())

    def handle(self) -> None:
        p = self.petition
        self.advance(timedelta(minutes=self.rng.randint(1, 90)))
        self.record(EventType.HANDLING, move="handle", from_tier=p.tier, actor=self.handler_user())

    def escalate(self) -> None:
        p = self.petition
        self.advance(self.within("handle"))
        from_tier = p.tier
        note = self.rng.choice(ESCALATE_NOTES[from_tier])
        actor = self.handler_user()
        p.tier = Tier(from_tier + 1)
        area = self.area_for(p.tier)
        p.handler_area = area
        self.start("accept")
        self.record(
            EventType.ESCALATED,
            move="escalate",
            from_tier=from_tier,
            actor=actor,
            note=note,
            extra={"area": area.code},
        )

    def resolve(self, topic: Topic) -> None:
        p = self.petition
        if self.rng.random() < 0.25:
            self.advance(self.within("handle") / 2)
            self.record(
                EventType.PROGRESS,
                move="note_progress",
                actor=self.handler_user(),
                note=self.rng.choice(PROGRESS_NOTES),
            )
        if p.handling_mode != HandlingMode.IMMEDIATE and self.rng.random() < 0.04:
            self.extend()
        self.advance(self.within("handle", early=p.handling_mode != HandlingMode.IMMEDIATE))
        p.reply = self.rng.choice(topic.replies or DEFAULT_REPLIES)
        p.resolved_at = self.at
        p.first_response_at = p.first_response_at or self.at
        self.clock = None
        self.record(EventType.RESOLVED, move="reply", from_tier=p.tier, actor=self.handler_user(), note=p.reply)

    def whistle(self, topic: Topic, *, stuck: bool) -> None:
        p = self.petition
        self.advance(self.within("handle"))
        departments = self.world.departments
        category = self.world.categories.get(topic.code)
        lead = (category.default_department_id if category else None) or departments.get("G01")
        if lead is None:
            raise _Stop  # no departments seeded: the street keeps the case
        assisting = []
        if self.rng.random() < 0.45:
            choice = departments.get(self.rng.choice(("G01", "G23", "G03", "G05", "G26", "G27", "G13", "U02")))
            if choice and choice != lead:
                assisting = [choice]
        p.handler_department_id = lead
        if assisting:
            p.handling_mode = HandlingMode.JOINT
        self.start("handle")
        self.record(
            EventType.WHISTLED,
            move="whistle",
            from_tier=p.tier,
            actor=f"sc{p.street.code}",
            note="街道吹哨，部门报到。",
            extra={"lead": lead, "assisting": assisting},
        )
        parts = [Assignment(department_id=d, role=AssignmentRole.LEAD if d == lead else AssignmentRole.ASSIST,
                            dispatched_by_id=self.world.users.get(f"sc{p.street.code}"), dispatched_at=self.at)
                 for d in [lead, *assisting]]  # fmt: skip
        self.assignments.extend(parts)
        for part in parts:
            self.advance(timedelta(minutes=self.rng.randint(10, 600)))
            part.status, part.reported_at = AssignmentStatus.REPORTED_IN, self.at
            p.first_response_at = p.first_response_at or self.at
            self.record(
                EventType.REPORTED_IN,
                move="report_in",
                actor=f"dh{self._dept_code(part.department_id)}",
                extra={"department_id": part.department_id},
            )
            self.assign_handler(part)
        if stuck:
            while True:
                self.auto_escalate()
        for part in [*parts[1:], parts[0]]:  # assisting departments reply before the lead
            self.advance(self.within("handle") / (3 if part.role == AssignmentRole.ASSIST else 1))
            part.status, part.replied_at = AssignmentStatus.REPLIED, self.at
            part.reply = self.rng.choice(topic.replies or DEFAULT_REPLIES)
            actor = f"dh{self._dept_code(part.department_id)}"
            self.record(
                EventType.DEPARTMENT_REPLIED,
                move="department_reply",
                actor=actor,
                note=part.reply,
                extra={"department_id": part.department_id, "role": part.role},
            )
        p.reply, p.resolved_at, self.clock = parts[0].reply, self.at, None
        self.record(EventType.RESOLVED, move="lead_reply", actor=actor, note=p.reply)

    def assign_handler(self, part: Assignment) -> None:
        """分派: where the department has several handlers, its leader mostly gives the part to one
        (now and then to a second one later); some parts wait unassigned."""
        leader, handlers = self.world.assigners.get(part.department_id, ("", []))
        if not handlers or self.rng.random() < DEMO_UNASSIGNED_SHARE:
            return
        for _turn in range(2 if self.rng.random() < DEMO_REASSIGNED_SHARE else 1):
            self.advance(timedelta(minutes=self.rng.randint(5, 240)))
            previous = part.handler_id
            name = self.rng.choice([h for h in handlers if self.world.users.get(h) != previous])
            part.handler_id, part.assigned_at = self.world.users[name], self.at
            part.assigned_by_id = self.world.users.get(leader)
            self.record(
                EventType.HANDLER_ASSIGNED,
                move="assign_handler",
                actor=leader,
                extra={
                    "department_id": part.department_id,
                    "handler_id": part.handler_id,
                    "previous_handler_id": previous,
                },
            )

    def _dept_code(self, department_id: int) -> str:
        for suffix, pk in self.world.departments.items():
            if pk == department_id:
                return f"{self.world.district.code}-{suffix}"
        return ""

    def rate_or_callback(self, *, allow_unsatisfied: bool) -> bool:
        """After resolution; returns True when the resident reopens the petition."""
        p = self.petition
        rng = self.rng
        if rng.random() < 0.7:
            self.advance(timedelta(hours=rng.uniform(0.5, 72)))
            rating = rng.choices(
                [Rating.SATISFIED, Rating.BASIC, Rating.UNSATISFIED], [85, 11, 4 if allow_unsatisfied else 0]
            )[0]
            p.rating, p.rated_at = rating, self.at
            move = "rate"
            if rating != Rating.UNSATISFIED:
                move, p.closed_at = "rate_close", self.at
            self.record(EventType.RATED, move=move, label="resident", extra={"rating": rating})
            if rating != Rating.UNSATISFIED:
                return False
            if rng.random() < 0.7:
                self.advance(timedelta(hours=rng.uniform(0.2, 24)))
                p.reopen_count, p.resolved_at = p.reopen_count + 1, None
                p.rating, p.rated_at, p.handler_department_id = "", None, None
                self.start("accept")
                self.record(
                    EventType.REOPENED,
                    move="reopen",
                    from_tier=p.tier,
                    label="resident",
                    note="问题没有彻底解决，希望再处理一下。",
                )
                return True
            self._callback(CallbackResult.UNSATISFIED)
            self.advance(timedelta(hours=rng.uniform(1, 48)))
            p.closed_at = self.at
            self.record(EventType.CLOSED, move="close", actor=f"cs{p.community.code}",
                        note="已逐一销号：向居民说明处理依据。")  # fmt: skip
            return False
        self.advance(timedelta(hours=rng.uniform(24, 140)))
        result = rng.choices([CallbackResult.SATISFIED, CallbackResult.BASIC, CallbackResult.UNREACHABLE], [75, 18, 7])[
            0
        ]
        self._callback(result)
        if result == CallbackResult.UNREACHABLE:
            self.at = max(self.at, p.resolved_at + timedelta(days=7, minutes=rng.randint(1, 60)))
            if self.at > self.now:
                raise _Stop
            p.closed_at = self.at
            self.record(EventType.CLOSED, move="close", note=gettext("Closed after the rating window."))
        return False

    def _callback(self, result: str) -> None:
        p = self.petition
        actor = f"cw{p.community.code}"
        self.callbacks.append(
            Callback(called_by_id=self.world.users.get(actor), called_at=self.at, result=result,
                     note=CALLBACK_NOTES[result])
        )  # fmt: skip
        move = "callback"
        if result in (CallbackResult.SATISFIED, CallbackResult.BASIC) and not p.rating:
            p.rating, p.rated_at = result, self.at
            move, p.closed_at = "callback_close", self.at
        self.record(
            EventType.CALLBACK,
            move=move,
            actor=actor,
            note=CALLBACK_NOTES[result],
            extra={"result": result},
        )

    def extend(self) -> None:
        """延期: the handling unit asks for more time before the deadline; the tier above grants it."""
        p = self.petition
        deadline = self.extended_to or self.limit_deadline(*self.clock)
        self.advance(min(self.within("handle"), max(deadline - self.at, timedelta(0)) / 2))
        if self.at >= deadline:
            return
        new_deadline = deadline_after(deadline, 3, TimeUnit.WORKING_DAYS)
        request = ExtensionRequest(
            requested_by_id=self.world.users.get(self.handler_user()),
            requested_at=self.at,
            reason=self.rng.choice(EXTENSION_REASONS),
            old_deadline=deadline,
            new_deadline=new_deadline,
        )
        self.extensions.append(request)
        key = -len(self.extensions)  # replaced by the row's id once it is written
        self.record(
            EventType.EXTENSION_ASKED,
            move="ask_extension",
            actor=self.handler_user(),
            note=request.reason,
            extra={"request_id": key, "old_deadline": deadline.isoformat(), "new_deadline": new_deadline.isoformat()},
        )
        self.advance(timedelta(minutes=self.rng.randint(30, 600)))
        upper = self.area_for(min(p.tier + 1, Tier.DISTRICT))
        decider = {Tier.COMMUNITY: "cs", Tier.STREET: "sc", Tier.DISTRICT: "dc"}.get(min(p.tier + 1, Tier.DISTRICT))
        request.status, request.decided_at = ExtensionStatus.GRANTED, self.at
        request.decided_by_id = self.world.users.get(f"{decider}{upper.code}")
        self.extended_to = new_deadline
        p.deadline_at = new_deadline
        self.record(
            EventType.EXTENSION_GRANTED,
            move="decide_extension",
            actor=f"{decider}{upper.code}",
            extra={"request_id": key, "old_deadline": deadline.isoformat(), "new_deadline": new_deadline.isoformat()},
        )

    def finish(self) -> None:
        """Leave the open petition's clock where start_clock (or a granted extension) left it."""
        p = self.petition
        if p.status in TIMED_STATUSES and self.clock is not None:
            start_clock(p, phase=self.clock[0], at=self.clock[1])
            if self.extended_to is not None:
                p.deadline_at, p.remind_at = self.extended_to, None
        else:
            p.deadline_at = p.remind_at = None

    def derive_history(self, mode: str) -> None:
        """The event deadlines, rounds and ratings, derived from the timeline as the services write them."""
        p = self.petition
        extensions = {
            -(i + 1): r.new_deadline for i, r in enumerate(self.extensions) if r.status == ExtensionStatus.GRANTED
        }

        def deadline_for(phase: str, tier: int, handling_mode: str, start: datetime) -> datetime:
            return _deadline(p, phase, tier, handling_mode, start)

        self.history = replay(self.events, deadline_for=deadline_for, mode=mode, extensions=extensions)
        p.round_count = len(self.history.rounds)


def _deadline(p: Petition, phase: str, tier: int, handling_mode: str, start: datetime) -> datetime:
    """When a clock started at `start` runs out, with the limits in force then (as start_clock)."""
    return _clock_deadline(p.category_id, p.urgency, phase, tier, handling_mode, start)


@lru_cache(maxsize=8192)
def _clock_deadline(
    category_id: int | None, urgency: str, phase: str, tier: int, handling_mode: str, start: datetime
) -> datetime:
    # The story asks for a clock's deadline when it starts, and the replay asks again: compute once.
    limits = limits_for(category_id=category_id, handling_mode=handling_mode, tier=tier, urgency=urgency, at=start)
    limit = limits.accept if phase == "accept" else limits.handle
    return deadline_after(start, limit.amount, limit.unit)


def _season(topic: Topic, month: int) -> float:
    return _SEASON_FACTORS[topic.season][month] if topic.season else 1.0


def _fill(template: str, place: _Place, rng: random.Random) -> str:
    return template.format(
        place=place.microgrid.name,
        road=place.road,
        community=place.community.name,
        n=rng.randint(1, 30),
    )


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


@dataclass(repr=False)
class _Plan:
    topic: Topic
    place: _Place
    created_at: datetime
    channel: str
    root: _Plan | None = None
    repeats: list[_Plan] = field(default_factory=list)
    petition: Petition | None = None
    life: _Life | None = None


def history_start(now: datetime) -> datetime:
    """Midnight (Beijing time) on the first day of the month HISTORY_MONTHS before `now`'s month."""
    today = timezone.localtime(now, CALENDAR_TZ).date()
    months = today.year * 12 + today.month - 1 - HISTORY_MONTHS
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=CALENDAR_TZ)


def _topic_weights(day: date, today: date) -> list[float]:
    """Each topic's weight on `day`: its base weight, its season, and its trend back from today."""
    years_back = (today - day).days / 365
    return [t.weight * _season(t, day.month) / t.trend**years_back for t in TOPICS]


def _plan_roots(world: _World, total: int, now: datetime, rng: random.Random) -> list[_Plan]:
    """`total` petitions in the last 365 days; the older days as many as their weights say."""
    today = timezone.localtime(now, CALENDAR_TZ).date()
    first = history_start(now).date()
    days = [first + timedelta(days=i) for i in range((today - first).days + 1)]
    topic_weights = {day: _topic_weights(day, today) for day in days}
    day_weights = [sum(topic_weights[d]) * WEEKDAY_FACTORS[d.weekday()] for d in days]
    last_year = sum(w for d, w in zip(days, day_weights, strict=True) if (today - d).days < 365)
    average_cluster = 1 + sum(t.weight * t.repeat_share * 2 for t in TOPICS) / sum(t.weight for t in TOPICS)
    cumulative = list(itertools.accumulate(world.weights))
    roots: list[_Plan] = []
    channels, channel_weights = list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values())
    wanted = total * sum(day_weights) / last_year
    for day in rng.choices(days, day_weights, k=max(1, round(wanted / average_cluster))):
        topic = rng.choices(TOPICS, topic_weights[day])[0]
        if topic.season == SUMMER and topic.night and rng.random() < 0.5:
            place = world.places[rng.choice(world.night_markets)]
        else:
            place = rng.choices(world.places, cum_weights=cumulative)[0]
        hour = rng.choices(range(24), NIGHT_HOURS if topic.night else DAY_HOURS)[0]
        at = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=CALENDAR_TZ)
        if at >= now:
            at = now - timedelta(minutes=rng.randint(1, 180))
        channel = rng.choices(channels, channel_weights)[0]
        root = _Plan(topic, place, at, channel)
        roots.append(root)
        if rng.random() < topic.repeat_share:
            count = min(1 + int(rng.expovariate(0.6)), 6)
            for _ in range(count):
                later = at + timedelta(hours=rng.uniform(1, 96))
                if later < now:
                    root.repeats.append(_Plan(topic, place, later, rng.choices(channels, channel_weights)[0], root))
    return roots


def _petition(plan: _Plan, world: _World, rng: random.Random, tracking: set[str]) -> Petition:
    topic, place = plan.topic, plan.place
    category = world.categories.get(topic.code)
    while True:
        number = f"{timezone.localtime(plan.created_at, CALENDAR_TZ):%y%m%d}{rng.randrange(10**6):06d}"
        if number not in tracking:
            tracking.add(number)
            break
    bx0, by0, bx1, by1 = place.bbox
    lon = round(rng.uniform(bx0 + (bx1 - bx0) * 0.1, bx1 - (bx1 - bx0) * 0.1), 6)
    lat = round(rng.uniform(by0 + (by1 - by0) * 0.1, by1 - (by1 - by0) * 0.1), 6)
    if plan.root is not None and plan.root.petition is not None:
        title = plan.root.petition.title if rng.random() < 0.6 else _fill(rng.choice(topic.titles), place, rng)
    else:
        title = _fill(rng.choice(topic.titles), place, rng)
    external_ref = ""
    if plan.channel == Channel.HOTLINE:
        external_ref = f"12345-{number}"
    elif plan.channel == Channel.OPEN311:
        external_ref = f"o311-{number}"
    elif plan.channel == Channel.DOORPLATE:
        external_ref = f"MP{place.microgrid.code}-{number}"  # unique like the tracking number
    resident = plan.channel in (Channel.MOBILE, Channel.HOTLINE, Channel.DOORPLATE, Channel.OPEN311)
    return Petition(
        tracking_no=number,
        channel=plan.channel,
        external_ref=external_ref,
        contact_name=f"{rng.choice(SURNAMES)}{rng.choice(('先生', '女士'))}" if resident else "",
        contact_phone=_phone(rng) if resident else "",
        title=title[:100],
        description=_fill(rng.choice(topic.descriptions), place, rng),
        category=category,
        need_type=NeedType.COMMON if topic.repeat_share >= 0.1 and rng.random() < 0.5 else NeedType.INDIVIDUAL,
        urgency=topic.urgency if rng.random() < 0.6 else Urgency.NORMAL,
        handling_mode=HandlingMode.IMMEDIATE if rng.random() < topic.immediate_share else HandlingMode.FAST,
        lon=lon,
        lat=lat,
        address=place.microgrid.name,
        microgrid=place.microgrid,
        grid=place.grid,
        community=place.community,
        street=place.street,
        area_path=place.microgrid.path,
        status=Status.SUBMITTED,
        suggested_department_id=category.default_department_id if category else None,
        created_at=plan.created_at,
    )


def _live(plan: _Plan, world: _World, rng: random.Random, now: datetime) -> _Life:
    p = plan.petition
    mode = p.handling_mode
    life = _Life(p, world, rng, now, at=p.created_at)
    label = {
        Channel.MOBILE: "resident",
        Channel.DOORPLATE: "resident",
        Channel.HOTLINE: "hotline",
        Channel.OPEN311: "open311",
    }
    actor = {Channel.PATROL: f"gw{p.grid.code}", Channel.STAFF: f"cw{p.community.code}"}.get(p.channel, "")
    life.record(EventType.SUBMITTED, move=None, actor=actor, label=label.get(p.channel, ""),
                extra={"channel": p.channel})  # fmt: skip
    topic = plan.topic
    age_days = (now - p.created_at).days
    try:
        life.route()
        if plan.root is not None:
            life.link(plan.root, plan.root)
        roll = rng.random()
        if roll < 0.03:
            life.return_and_reroute()
        elif roll < 0.05:
            life.auto_escalate()
        stuck = age_days > 30 and rng.random() < 0.025
        whistle = stuck or rng.random() < topic.whistle_share
        escalate_to = Tier.STREET if whistle else (Tier.COMMUNITY if rng.random() < 0.1 else p.tier)
        while True:
            life.accept()
            while p.tier < escalate_to:
                life.escalate()
                life.accept()
            if whistle and p.tier >= Tier.STREET:
                life.whistle(topic, stuck=stuck)
            else:
                life.handle()
                life.resolve(topic)
            if not life.rate_or_callback(allow_unsatisfied=p.reopen_count == 0):
                break
            whistle = False  # a reopened case is finished by the unit that holds it
            escalate_to = p.tier
    except _Stop:
        pass
    life.finish()
    life.derive_history(mode)
    return life


def seed_history(context: Any = None, *, seed: int | None = None, scale: float | None = None, stdout=None) -> dict:
    """Write two years of petitions ending now for the demo district (module docstring); returns counts.

    Called by `seed_demo` as a step with its SeedContext (seed, scale, district); callable directly
    with `seed=` and `scale=` (the district is then the first district area).
    """
    seed = context.seed if seed is None and context is not None else (seed if seed is not None else 2024)
    scale = context.scale if scale is None and context is not None else (scale if scale is not None else 1.0)
    district = (
        getattr(context, "district", None) or Area.objects.filter(level=AreaLevel.DISTRICT).order_by("code").first()
    )
    if district is None:
        raise ValueError("No district: seed the area tree first.")
    categories_seed()
    categories_link_departments(district_code=district.code)
    limits_cache_clear()
    _clock_deadline.cache_clear()  # the limits or the calendar may have changed since the last seed
    rng = random.Random(f"{seed}:history")
    world = _load_world(district, rng)
    now = timezone.now()
    total = max(20, round(DEFAULT_PETITIONS * scale))
    roots = _plan_roots(world, total, now, rng)
    tracking = set(
        Petition.objects.filter(created_at__gte=history_start(now) - timedelta(days=1)).values_list(
            "tracking_no", flat=True
        )
    )
    counts = {
        "petitions": 0,
        "petition events": 0,
        "assignments": 0,
        "call-backs": 0,
        "handling rounds": 0,
        "ratings": 0,
        "extensions": 0,
    }
    roots.sort(key=lambda plan: plan.created_at)
    contacts = _resident_contacts(district)
    # Its own random sequence: who filed from their own house leaves the rest of the history as it was.
    filed_by = random.Random(f"{seed}:filed-by")
    # Roots first (their ids are needed by their repeats), then the repeats.
    for start in range(0, len(roots), INSERT_BATCH_SIZE):
        batch = roots[start : start + INSERT_BATCH_SIZE]
        for plan in batch:
            plan.petition = _petition(plan, world, rng, tracking)
            _filed_by_resident(plan.petition, contacts, filed_by)
            plan.life = _live(plan, world, rng, now)
            for repeat in plan.repeats:
                repeat.petition = _petition(repeat, world, rng, tracking)
                if _links(repeat):
                    plan.petition.repeat_count += 1
                else:
                    repeat.root = None  # link_repeat would not have matched it: a petition of its own
        _write(batch, counts)
    repeats = sorted((r for root in roots for r in root.repeats), key=lambda plan: plan.created_at)
    for start in range(0, len(repeats), INSERT_BATCH_SIZE):
        batch = repeats[start : start + INSERT_BATCH_SIZE]
        for plan in batch:
            plan.life = _live(plan, world, rng, now)
        _write(batch, counts)
    if stdout is not None:
        stdout.write(f"seeded {counts['petitions']} petitions ({scale=}, {seed=})")
    if context is not None and hasattr(context, "summary"):
        context.summary.update(counts)
    return counts


# In a micro-grid whose records are kept, this share of the residents' own petitions (the mobile
# form, the hotline, a doorplate, Open311) names a resident's house, and half of those also their
# phone: what the policy finder's "has an open petition" finds them by.
FILED_FROM_HOME_SHARE = 0.5
RESIDENT_CHANNELS = (Channel.MOBILE, Channel.HOTLINE, Channel.DOORPLATE, Channel.OPEN311)
CONTACTS_PER_MICROGRID = 6


def _resident_contacts(district: Area) -> dict[int, list[tuple[str, str]]]:
    """(house address, phone) of a few active residents of each micro-grid with records."""
    picked: dict[int, list[int]] = {}
    rows = (
        Resident.objects.filter(status=ResidentStatus.ACTIVE, area_path__startswith=district.path)
        .exclude(phone="")
        .order_by("microgrid_id", "pk")
        .values_list("pk", "microgrid_id")
    )
    for pk, microgrid_id in rows:
        chosen = picked.setdefault(microgrid_id, [])
        if len(chosen) < CONTACTS_PER_MICROGRID:
            chosen.append(pk)
    ids = [pk for chosen in picked.values() for pk in chosen]
    found = {
        pk: (address, phone)
        for pk, address, phone in Resident.objects.filter(pk__in=ids).values_list("pk", "house__address", "phone")
    }
    return {mg: [found[pk] for pk in chosen if found[pk][0]] for mg, chosen in picked.items()}


def _filed_by_resident(petition: Petition, contacts: dict[int, list[tuple[str, str]]], rng: random.Random) -> None:
    homes = contacts.get(petition.microgrid_id)
    if not homes or petition.channel not in RESIDENT_CHANNELS or rng.random() >= FILED_FROM_HOME_SHARE:
        return
    address, phone = rng.choice(homes)
    petition.address = address[:200]
    if rng.random() < 0.5:
        petition.contact_phone = phone


def _links(repeat: _Plan) -> bool:
    """Whether link_repeat would link the repeat to its root when it is routed.

    The root must still be open (routed, not yet resolved) and the texts similar enough; the place
    (same micro-grid, or within REPEAT_DISTANCE_METRES) and the 30-day window hold by construction.
    """
    root = repeat.root.petition
    resolved = next((e.created_at for e in repeat.root.life.events if e.type == EventType.RESOLVED), None)
    routed = repeat.created_at + timedelta(seconds=20)
    if resolved is not None and resolved <= routed:
        return False
    if root.status == Status.RETURNED or root.created_at >= repeat.created_at:
        return False
    text = f"{repeat.petition.title} {repeat.petition.description}"
    return text_similarity(text, f"{root.title} {root.description}") >= settings.REPEAT_SIMILARITY


def _write(batch: list[_Plan], counts: dict[str, int]) -> None:
    petitions = Petition.objects.bulk_create([plan.petition for plan in batch])
    if any(p.pk is None for p in petitions):
        ids = dict(
            Petition.objects.filter(tracking_no__in=[p.tracking_no for p in petitions]).values_list("tracking_no", "pk")
        )
        for p in petitions:
            p.pk = ids[p.tracking_no]
    extensions = []
    for plan in batch:
        for request in plan.life.extensions:
            request.petition_id = plan.petition.pk
            extensions.append(request)
    ExtensionRequest.objects.bulk_create(extensions, batch_size=INSERT_BATCH_SIZE)
    events, assignments, callbacks, rounds, ratings = [], [], [], [], []
    for plan in batch:
        life, pk = plan.life, plan.petition.pk
        for event in life.events:
            link = event.link
            if link is not None:
                event.extra = {"repeat_of": link[0].petition.pk, "matched": link[1].petition.pk}
            key = event.extra.get("request_id")
            if key is not None and key < 0:
                event.extra = {**event.extra, "request_id": life.extensions[-key - 1].pk}
            events.append(
                (
                    pk,
                    str(event.type),
                    event.actor_id,
                    event.actor_label,
                    str(event.from_status),
                    str(event.to_status),
                    event.from_tier,
                    event.to_tier,
                    event.note,
                    json.dumps(event.extra),
                    event.created_at,
                    event.deadline_in_force,
                    event.deadline_after,
                    event.on_time,
                )
            )
        area_ids = plan.life.world.area_ids
        rounds += [
            (
                pk,
                r.number,
                r.tier,
                area_ids.get(r.handler_area_code),
                r.started_at,
                r.start_event,
                r.accept_due_at,
                r.accepted_at,
                r.responded_at,
                r.handle_due_at,
                r.resolved_at,
                r.ended_at,
                r.end_event,
            )
            for r in life.history.rounds
        ]
        ratings += [(pk, r.round_number, r.rating, r.source, r.rated_at, r.is_latest) for r in life.history.ratings]
        for part in life.assignments:
            part.petition_id = pk
            assignments.append(part)
        for callback in life.callbacks:
            callback.petition_id = pk
            callbacks.append(callback)
    _insert(PetitionEvent, EVENT_COLUMNS, events)
    Assignment.objects.bulk_create(assignments, batch_size=INSERT_BATCH_SIZE)
    Callback.objects.bulk_create(callbacks, batch_size=INSERT_BATCH_SIZE)
    _insert(HandlingRound, ROUND_COLUMNS, rounds)
    _insert(PetitionRating, RATING_COLUMNS, ratings)
    counts["petitions"] += len(petitions)
    counts["petition events"] += len(events)
    counts["assignments"] += len(assignments)
    counts["call-backs"] += len(callbacks)
    counts["handling rounds"] += len(rounds)
    counts["ratings"] += len(ratings)
    counts["extensions"] += len(extensions)


ROUND_COLUMNS = (
    "petition_id",
    "number",
    "tier",
    "handler_area_id",
    "started_at",
    "start_event",
    "accept_due_at",
    "accepted_at",
    "responded_at",
    "handle_due_at",
    "resolved_at",
    "ended_at",
    "end_event",
)
RATING_COLUMNS = ("petition_id", "round_number", "rating", "source", "rated_at", "is_latest")
# `extra` as JSON text: PostgreSQL casts the text array to jsonb[], SQLite stores the text as is.
EVENT_COLUMNS = (
    "petition_id",
    "type",
    "actor_id",
    "actor_label",
    "from_status",
    "to_status",
    "from_tier",
    "to_tier",
    "note",
    "extra",
    "created_at",
    "deadline_in_force",
    "deadline_after",
    "on_time",
)


def _insert(model: type[Any], columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert plain tuples, no model objects: on PostgreSQL one `INSERT … SELECT unnest(…)` per batch,
    elsewhere one `executemany` with the values adapted as the backend stores them.

    Events, rounds and ratings are most of the demo's rows; building a model instance for each
    (and compiling its INSERT) cost more than writing it.
    """
    fields = [model._meta.get_field(name.removesuffix("_id")) for name in columns]
    table, names = (
        connection.ops.quote_name(model._meta.db_table),
        ", ".join(connection.ops.quote_name(f.column) for f in fields),
    )
    if connection.vendor != "postgresql":
        moment = connection.ops.adapt_datetimefield_value
        stamps = [i for i, f in enumerate(fields) if f.get_internal_type() == "DateTimeField"]
        adapted = []
        for row in rows:
            row = list(row)
            for i in stamps:
                row[i] = moment(row[i])
            adapted.append(row)
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"
        with connection.cursor() as cursor:
            for start in range(0, len(adapted), INSERT_BATCH_SIZE * 5):
                cursor.executemany(sql, adapted[start : start + INSERT_BATCH_SIZE * 5])
        return
    arrays = ", ".join(
        f"%s::{f.db_type(connection) if not f.is_relation else f.target_field.rel_db_type(connection)}[]"
        for f in fields
    )
    sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH_SIZE * 5):
            chunk = rows[start : start + INSERT_BATCH_SIZE * 5]
            cursor.execute(sql, [list(column) for column in zip(*chunk, strict=True)])


def delete_history(district: Area) -> int:
    """Delete the district's petitions (events, assignments and call-backs go with them)."""
    in_district = (
        Q(area_path__startswith=district.path)
        | Q(handler_area__path__startswith=district.path)
        | Q(reported_area__path__startswith=district.path)
    )
    ids = list(Petition.objects.filter(in_district).values_list("pk", flat=True))
    deleted = 0
    for start in range(0, len(ids), INSERT_BATCH_SIZE):
        chunk = ids[start : start + INSERT_BATCH_SIZE]
        Petition.objects.filter(merged_into_id__in=chunk).update(merged_into=None)
        Petition.objects.filter(repeat_of_id__in=chunk).update(repeat_of=None)
        deleted += Petition.objects.filter(pk__in=chunk).delete()[1].get(Petition._meta.label, 0)
    return deleted
