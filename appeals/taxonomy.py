"""The petition taxonomy as data: GB/T 30428 event and component classes, plus livelihood services.

Codes are stable (classes "01"…"19", sub-classes "0101"…): petitions, Open311 service codes and
reports refer to them, so a code is never reused for another meaning; retire a sub-class with
`is_active=False` instead. The standard's own class numbers are in each class's description.

Default departments are named by the suffix of the demo catalogue's codes (governance/demo.py:
`<district code>-G01` is 区城市管理局). A fresh database has no departments, so the data migration
leaves them empty and `categories_link_departments()` fills them in once departments exist
(seed_demo calls it through appeals.demo.seed_history; an administrator can edit them in the admin).

Functions take the model classes as arguments so the data migration can pass historical models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

EVENT = "event"
COMPONENT = "component"
LIVELIHOOD = "livelihood"

# TimeUnit values (governance.workcalendar.TimeUnit), spelled out so migrations need no app import.
EMERGENCY_HOURS = "emergency_hours"
WORKING_HOURS = "working_hours"
WORKING_DAYS = "working_days"
NATURAL_DAYS = "natural_days"

GRID, COMMUNITY, STREET, DISTRICT = 1, 2, 3, 4


@dataclass(frozen=True)
class Sub:
    code: str
    name: str
    department: str = ""  # suffix of the department code, "" = decided by the dispatcher
    description: str = ""


@dataclass(frozen=True)
class Class:
    code: str
    name: str
    kind: str
    description: str
    subs: tuple[Sub, ...]


TAXONOMY: tuple[Class, ...] = (
    Class(
        "01",
        "市容环境",
        EVENT,
        "GB/T 30428 事件 01 市容环境",
        (
            Sub("0101", "暴露垃圾", "G27", "道路、小区公共区域暴露的生活垃圾"),
            Sub("0102", "积存垃圾渣土", "G27", "长期积存未清运的垃圾、渣土"),
            Sub("0103", "道路不洁", "G27", "路面油污、泥土、杂物"),
            Sub("0104", "水域不洁", "G13", "河道、明渠漂浮物"),
            Sub("0105", "绿地脏乱", "G27", "绿地内垃圾、杂物"),
            Sub("0106", "焚烧垃圾树叶", "G23", "露天焚烧垃圾、树叶、秸秆"),
            Sub("0107", "露天烧烤", "G23", "路边烧烤、店外烧烤"),
            Sub("0108", "违规饲养", "G23", "城区饲养家禽家畜"),
            Sub("0109", "餐饮油烟", "G09", "餐饮单位油烟直排"),
            Sub("0110", "私搭乱建", "G23", "违规搭建棚亭、构筑物"),
            Sub("0111", "废弃车辆", "G01", "长期停放的僵尸车、废弃非机动车"),
        ),
    ),
    Class(
        "02",
        "宣传广告",
        EVENT,
        "GB/T 30428 事件 02 宣传广告",
        (
            Sub("0201", "非法小广告", "G23", "张贴、喷涂、刻画的小广告"),
            Sub("0202", "违规户外广告", "G01", "未经审批的户外广告、条幅"),
            Sub("0203", "街头散发广告", "G23", ""),
            Sub("0204", "广告牌匾破损", "G01", "牌匾松动、破损，有坠落风险"),
        ),
    ),
    Class(
        "03",
        "施工管理",
        EVENT,
        "GB/T 30428 事件 03 施工管理",
        (
            Sub("0301", "施工扰民", "G03", "夜间施工、施工噪音"),
            Sub("0302", "施工占道", "G01", "施工围挡、材料占用道路"),
            Sub("0303", "道路遗撒", "G23", "渣土车遗撒"),
            Sub("0304", "工地扬尘", "G09", "工地未覆盖、未洒水"),
            Sub("0305", "无证掘路", "G01", ""),
            Sub("0306", "施工废弃料", "G03", ""),
        ),
    ),
    Class(
        "04",
        "突发事件",
        EVENT,
        "GB/T 30428 事件 04 突发事件",
        (
            Sub("0401", "路面塌陷", "G01", ""),
            Sub("0402", "自来水管破裂", "U01", ""),
            Sub("0403", "燃气泄漏", "U04", ""),
            Sub("0404", "道路积水", "U02", "暴雨后路面、涵洞积水"),
            Sub("0405", "道路积雪结冰", "G27", ""),
            Sub("0406", "架空线缆脱落", "U05", ""),
            Sub("0407", "火灾隐患", "G25", ""),
        ),
    ),
    Class(
        "05",
        "街面秩序",
        EVENT,
        "GB/T 30428 事件 05 街面秩序",
        (
            Sub("0501", "占道经营", "G23", "摊点、商品占用人行道"),
            Sub("0502", "无照经营游商", "G23", "游商浮贩"),
            Sub("0503", "店外经营", "G23", "出店经营、跨门营业"),
            Sub("0504", "乱堆物料", "G23", "公共区域堆放物料、杂物"),
            Sub("0505", "沿街晾挂", "G23", ""),
            Sub("0506", "非法营运", "G10", "黑车、非法营运三轮车"),
            Sub("0507", "乞讨卖艺", "G04", ""),
        ),
    ),
    Class(
        "06",
        "公用设施",
        COMPONENT,
        "GB/T 30428 部件 01 公用设施",
        (
            Sub("0601", "井盖缺失破损", "G01", "各类井盖缺失、破损、移位"),
            Sub("0602", "上水井盖", "U01", ""),
            Sub("0603", "污水井盖", "U02", ""),
            Sub("0604", "雨水箅子", "U02", ""),
            Sub("0605", "路灯", "G01", "路灯不亮、昼亮、灯杆倾斜"),
            Sub("0606", "消防设施", "G25", "消防通道堵塞、消火栓损坏"),
            Sub("0607", "电力设施", "U05", "变压器、电线杆、配电箱"),
            Sub("0608", "通信设施", "U06", "通信线缆、交接箱"),
        ),
    ),
    Class(
        "07",
        "道路交通",
        COMPONENT,
        "GB/T 30428 部件 02 道路交通",
        (
            Sub("0701", "电动车停放", "G26", "电动车乱停放、楼道充电"),
            Sub("0702", "机动车乱停放", "G26", ""),
            Sub("0703", "共享单车乱停放", "G10", ""),
            Sub("0704", "道路破损", "G01", "路面坑洼、人行道板松动"),
            Sub("0705", "交通护栏", "G26", ""),
            Sub("0706", "交通信号灯", "G26", ""),
            Sub("0707", "公交站亭", "U10", ""),
        ),
    ),
    Class(
        "08",
        "市容环境设施",
        COMPONENT,
        "GB/T 30428 部件 03 市容环境",
        (
            Sub("0801", "公共厕所", "G27", ""),
            Sub("0802", "垃圾箱", "G27", "垃圾桶破损、满溢"),
            Sub("0803", "垃圾收集站", "G27", ""),
            Sub("0804", "公共座椅", "G01", ""),
        ),
    ),
    Class(
        "09",
        "园林绿化",
        COMPONENT,
        "GB/T 30428 部件 04 园林绿化",
        (
            Sub("0901", "行道树", "G27", "树枝遮挡、树木倾倒、修剪"),
            Sub("0902", "古树名木", "G27", ""),
            Sub("0903", "绿地破坏", "G27", "毁绿种菜、踩踏"),
            Sub("0904", "花坛绿篱", "G27", ""),
        ),
    ),
    Class(
        "10",
        "房屋土地",
        COMPONENT,
        "GB/T 30428 部件 05 房屋土地",
        (
            Sub("1001", "违章建筑", "G23", ""),
            Sub("1002", "危旧房屋", "G03", ""),
            Sub("1003", "楼体外立面", "G28", "外墙脱落、老旧小区改造"),
            Sub("1004", "空闲土地", "G24", ""),
        ),
    ),
    Class(
        "11",
        "物业服务",
        LIVELIHOOD,
        "小区物业与业主的事",
        (
            Sub("1101", "物业服务", "G03", "物业不作为、收费、保洁"),
            Sub("1102", "电梯故障", "G02", "电梯停运、困人隐患"),
            Sub("1103", "楼道堆物", "G25", "楼道杂物、堵塞疏散通道"),
            Sub("1104", "小区停车", "G03", ""),
        ),
    ),
    Class(
        "12",
        "供水排水",
        LIVELIHOOD,
        "",
        (
            Sub("1201", "供水", "U01", "停水、水压低、水质"),
            Sub("1202", "下水管堵塞", "U02", "下水管道堵塞、污水外溢"),
            Sub("1203", "二次供水", "U01", ""),
        ),
    ),
    Class(
        "13",
        "供暖",
        LIVELIHOOD,
        "供暖季 11月15日至次年4月5日",
        (Sub("1301", "供暖", "U03", "室温不达标、暖气不热、漏水"),),
    ),
    Class(
        "14",
        "燃气供电",
        LIVELIHOOD,
        "",
        (Sub("1401", "燃气", "U04", "燃气停供、表具、安全隐患"), Sub("1402", "供电", "U05", "停电、电压不稳")),
    ),
    Class(
        "15",
        "噪音扰民",
        LIVELIHOOD,
        "",
        (
            Sub("1501", "噪音扰民", "G09", "社会生活噪声"),
            Sub("1502", "商业经营噪音", "G09", "店铺音响、广场舞"),
        ),
    ),
    Class("16", "邻里纠纷", LIVELIHOOD, "", (Sub("1601", "邻里纠纷", "G16", "漏水、占用公共空间等纠纷调解"),)),
    Class(
        "17",
        "民政服务",
        LIVELIHOOD,
        "",
        (
            Sub("1701", "民政服务", "G04", "低保、特困、养老服务"),
            Sub("1702", "社会保障", "G08", "社保、医保、就业"),
            Sub("1703", "退役军人服务", "G12", ""),
            Sub("1704", "残疾人服务", "G31", ""),
        ),
    ),
    Class(
        "18",
        "医疗卫生",
        LIVELIHOOD,
        "",
        (Sub("1801", "医疗卫生", "G06", "社区卫生服务、疫苗接种"), Sub("1802", "病媒生物", "G06", "老鼠、蟑螂、蚊蝇")),
    ),
    Class(
        "19",
        "动物管理",
        LIVELIHOOD,
        "",
        (Sub("1901", "流浪动物", "G01", "流浪狗、流浪猫"), Sub("1902", "犬只扰民", "G05", "遛狗不拴绳、犬吠")),
    ),
)

# Time limits (accept amount, unit, handle amount, unit) per tier. Rows with no category are the
# defaults; the sweeper and start_clock look them up through appeals.services.deadlines.limits_for.
_DEFAULTS = {
    GRID: ("2", WORKING_HOURS, "3", WORKING_DAYS),
    COMMUNITY: ("4", WORKING_HOURS, "5", WORKING_DAYS),
    STREET: ("1", WORKING_DAYS, "7", WORKING_DAYS),
    DISTRICT: ("1", WORKING_DAYS, "10", WORKING_DAYS),
}
_IMMEDIATE = {
    GRID: ("1", WORKING_HOURS, "4", WORKING_HOURS),
    COMMUNITY: ("1", WORKING_HOURS, "8", WORKING_HOURS),
    STREET: ("2", WORKING_HOURS, "1", WORKING_DAYS),
    DISTRICT: ("2", WORKING_HOURS, "2", WORKING_DAYS),
}
_JOINT = {
    STREET: ("1", WORKING_DAYS, "10", WORKING_DAYS),
    DISTRICT: ("1", WORKING_DAYS, "15", WORKING_DAYS),
}
_EMERGENCY = {tier: ("1", EMERGENCY_HOURS, "24", EMERGENCY_HOURS) for tier in (GRID, COMMUNITY, STREET, DISTRICT)}
# Heating, manhole covers and blocked drains do not wait for Monday.
_AROUND_THE_CLOCK = {
    GRID: ("2", EMERGENCY_HOURS, "2", NATURAL_DAYS),
    COMMUNITY: ("2", EMERGENCY_HOURS, "2", NATURAL_DAYS),
    STREET: ("4", EMERGENCY_HOURS, "3", NATURAL_DAYS),
    DISTRICT: ("4", EMERGENCY_HOURS, "3", NATURAL_DAYS),
}
# (category code or None, handling mode or "", tier -> limits)
TIME_LIMITS: tuple[tuple[str | None, str, dict[int, tuple[str, str, str, str]]], ...] = (
    (None, "", _DEFAULTS),
    (None, "immediate", _IMMEDIATE),
    (None, "joint", _JOINT),
    *((sub.code, "", _EMERGENCY) for cls in TAXONOMY if cls.code == "04" for sub in cls.subs),
    ("0601", "", _AROUND_THE_CLOCK),
    ("1202", "", _AROUND_THE_CLOCK),
    ("1301", "", _AROUND_THE_CLOCK),
    ("0606", "", _AROUND_THE_CLOCK),
)


# The built-in limits are in force from before any petition: history computed with them (the demo's
# year, rows migrated from before limits kept history) uses them. A later change is a later row.
LIMITS_IN_FORCE_FROM = datetime(2020, 1, 1, tzinfo=UTC)


def subclasses() -> list[tuple[Class, Sub]]:
    return [(cls, sub) for cls in TAXONOMY for sub in cls.subs]


def categories_load(Category: Any, TimeLimit: Any) -> tuple[int, int]:
    """Create the classes, sub-classes and time limits that do not exist yet (by code).

    Existing rows are left alone, so an administrator's edits survive a re-run. Returns
    (categories created, time limits created).
    """
    existing = set(Category.objects.values_list("code", flat=True))
    created = 0
    by_code: dict[str, Any] = {c.code: c for c in Category.objects.all()}
    for order, cls in enumerate(TAXONOMY, start=1):
        if cls.code not in existing:
            by_code[cls.code] = Category.objects.create(
                code=cls.code, name=cls.name, kind=cls.kind, description=cls.description, sort_order=order
            )
            created += 1
        parent = by_code[cls.code]
        new = [
            Category(
                code=sub.code,
                name=sub.name,
                kind=cls.kind,
                parent=parent,
                description=sub.description,
                sort_order=n,
            )
            for n, sub in enumerate(cls.subs, start=1)
            if sub.code not in existing
        ]
        Category.objects.bulk_create(new)
        created += len(new)
    ids = dict(Category.objects.values_list("code", "pk"))
    have = set(TimeLimit.objects.values_list("category_id", "handling_mode", "tier"))
    # The migration that seeds the catalogue runs before limits had an effective_from.
    versioned = any(f.name == "effective_from" for f in TimeLimit._meta.get_fields())
    since = {"effective_from": LIMITS_IN_FORCE_FROM} if versioned else {}
    limits = []
    for code, mode, per_tier in TIME_LIMITS:
        category_id = ids.get(code) if code else None
        if code and category_id is None:
            continue
        for tier, (accept, accept_unit, handle, handle_unit) in per_tier.items():
            if (category_id, mode, tier) in have:
                continue
            limits.append(
                TimeLimit(
                    category_id=category_id,
                    handling_mode=mode,
                    tier=tier,
                    accept_amount=Decimal(accept),
                    accept_unit=accept_unit,
                    handle_amount=Decimal(handle),
                    handle_unit=handle_unit,
                    **since,
                )
            )
    TimeLimit.objects.bulk_create(limits)
    return created, len(limits)


def categories_seed() -> tuple[int, int]:
    """categories_load with the current models (the migration passes historical ones)."""
    from appeals.models import Category, TimeLimit

    return categories_load(Category, TimeLimit)


def categories_link_departments(*, district_code: str | None = None, overwrite: bool = False) -> int:
    """Point each sub-class without a default department at its catalogue department.

    Departments are found by code: `<district_code>-<suffix>` when a district is given, else any
    department whose code is the suffix or ends with `-<suffix>` (the first by code). Returns how
    many sub-classes were linked.
    """
    from appeals.models import Category
    from governance.models import Department

    codes = dict(Department.objects.filter(is_active=True).order_by("-code").values_list("code", "pk"))
    by_suffix: dict[str, int] = {}
    for code, pk in codes.items():  # descending, so the smallest code per suffix wins
        suffix = code.rsplit("-", 1)[-1]
        if district_code is None or code == f"{district_code}-{suffix}":
            by_suffix[suffix] = pk
    linked = 0
    wanted = {sub.code: sub.department for _cls, sub in subclasses() if sub.department}
    for category in Category.objects.filter(code__in=list(wanted)):
        department_id = by_suffix.get(wanted[category.code])
        if department_id is None or (category.default_department_id and not overwrite):
            continue
        if category.default_department_id != department_id:
            category.default_department_id = department_id
            category.save(update_fields=["default_department"])
            linked += 1
    return linked
