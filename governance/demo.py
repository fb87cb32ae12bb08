"""Demo departments and staff for the demo district (see `manage.py seed_demo`).

Staff are written with bulk inserts and one shared password hash (hashing is deliberately slow,
and the demo has about 8,500 users). Every demo user's password is DEMO_PASSWORD.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import Q

from governance.models import DEPARTMENT_ROLES, ROLE_AREA_LEVEL, Department, DepartmentKind, Role, StaffPost
from grids.models import Area, AreaLevel

DEMO_PASSWORD = "demo12345"
USER_BATCH_SIZE = 1000

# (code suffix, name, short name); codes are stable so demo links and fixtures keep working.
DISTRICT_DEPARTMENTS = [
    ("G01", "区城市管理局", "城管局"),
    ("G02", "区市场监督管理局", "市场监管局"),
    ("G03", "区住房和城乡建设局", "住建局"),
    ("G04", "区民政局", "民政局"),
    ("G05", "青岛市公安局市北分局", "公安分局"),
    ("G06", "区卫生健康局", "卫健局"),
    ("G07", "区教育和体育局", "教体局"),
    ("G08", "区人力资源和社会保障局", "人社局"),
    ("G09", "青岛市生态环境局市北分局", "生态环境分局"),
    ("G10", "区交通运输局", "交通局"),
    ("G11", "区应急管理局", "应急局"),
    ("G12", "区退役军人事务局", "退役军人局"),
    ("G13", "区水务局", "水务局"),
    ("G14", "区发展和改革局", "发改局"),
    ("G15", "区财政局", "财政局"),
    ("G16", "区司法局", "司法局"),
    ("G17", "区文化和旅游局", "文旅局"),
    ("G18", "区商务局", "商务局"),
    ("G19", "区科学技术局", "科技局"),
    ("G20", "区医疗保障局", "医保局"),
    ("G21", "区信访局", "信访局"),
    ("G22", "区统计局", "统计局"),
    ("G23", "区综合行政执法大队", "执法大队"),
    ("G24", "青岛市自然资源和规划局市北分局", "自然资源分局"),
    ("G25", "区消防救援大队", "消防大队"),
    ("G26", "青岛市公安局交通警察支队市北大队", "交警大队"),
    ("G27", "区园林和环卫服务中心", "园林环卫"),
    ("G28", "区城市更新和城市建设服务中心", "城市更新中心"),
    ("G29", "区行政审批服务局", "审批局"),
    ("G30", "区妇女联合会", "妇联"),
    ("G31", "区残疾人联合会", "残联"),
    ("G32", "区总工会", "总工会"),
    ("G33", "区市场监管综合执法大队", "市监执法"),
]
UTILITIES = [
    ("U01", "青岛水务集团市北供水分公司", "供水公司"),
    ("U02", "青岛水务集团排水分公司", "排水公司"),
    ("U03", "青岛能源热电集团市北供热公司", "供热公司"),
    ("U04", "青岛能源华润燃气有限公司", "燃气公司"),
    ("U05", "国网青岛市北区供电公司", "供电公司"),
    ("U06", "中国移动青岛分公司", "移动通信"),
    ("U07", "中国联通青岛分公司", "联通通信"),
    ("U08", "中国电信青岛分公司", "电信通信"),
    ("U09", "青岛广电网络市北分公司", "有线电视"),
    ("U10", "青岛公交集团", "公交集团"),
    ("U11", "中国邮政青岛市北区分公司", "邮政"),
]
PROPERTY_FIRMS = [
    ("P01", "青岛嘉定物业服务有限公司", "嘉定物业"),
    ("P02", "青岛海泰物业服务有限公司", "海泰物业"),
    ("P03", "青岛华阳物业服务有限公司", "华阳物业"),
    ("P04", "青岛浮山物业服务有限公司", "浮山物业"),
    ("P05", "青岛北岭物业服务有限公司", "北岭物业"),
    ("P06", "青岛盛和物业服务有限公司", "盛和物业"),
    ("P07", "青岛安居物业服务有限公司", "安居物业"),
    ("P08", "青岛万家物业服务有限公司", "万家物业"),
    ("P09", "青岛润德物业服务有限公司", "润德物业"),
    ("P10", "青岛恒信物业服务有限公司", "恒信物业"),
    ("P11", "青岛和顺物业服务有限公司", "和顺物业"),
]
DEPARTMENT_CATALOGUE = [
    *((code, name, short, DepartmentKind.DISTRICT) for code, name, short in DISTRICT_DEPARTMENTS),
    *((code, name, short, DepartmentKind.UTILITY) for code, name, short in UTILITIES),
    *((code, name, short, DepartmentKind.PROPERTY) for code, name, short in PROPERTY_FIRMS),
]

# Post titles as the platforms call them.
ROLE_TITLES: dict[str, str] = {
    Role.GRID_WORKER: "专职网格员",
    Role.MICROGRID_HEAD: "微网格长",
    Role.COMMUNITY_WORKER: "社区工作者",
    Role.COMMUNITY_SECRETARY: "社区党委书记",
    Role.STREET_COMMAND: "街道指挥中心值班员",
    Role.DISTRICT_CENTRE: "区级指挥中心值班员",
    Role.DEPARTMENT_HANDLER: "承办人",
    Role.DEPARTMENT_LEADER: "分管领导",
    Role.ADMINISTRATOR: "系统管理员",
}
# Bulk usernames: a role prefix and the area or department code.
USERNAME_PREFIX: dict[str, str] = {
    Role.GRID_WORKER: "gw",
    Role.MICROGRID_HEAD: "mg",
    Role.COMMUNITY_WORKER: "cw",
    Role.COMMUNITY_SECRETARY: "cs",
    Role.STREET_COMMAND: "sc",
    Role.DISTRICT_CENTRE: "dc",
    Role.DEPARTMENT_HANDLER: "dh",
    Role.DEPARTMENT_LEADER: "dl",
}
# The fixed accounts to try each role with, posted to the first area of the role's level (by code)
# or to the first district department (区城市管理局).
DEMO_ACCOUNTS: list[tuple[str, str]] = [
    ("admin", Role.ADMINISTRATOR),
    ("district", Role.DISTRICT_CENTRE),
    ("street", Role.STREET_COMMAND),
    ("secretary", Role.COMMUNITY_SECRETARY),
    ("community", Role.COMMUNITY_WORKER),
    ("grid", Role.GRID_WORKER),
    ("microgrid", Role.MICROGRID_HEAD),
    ("dept", Role.DEPARTMENT_HANDLER),
    ("deptlead", Role.DEPARTMENT_LEADER),
]
DEMO_USERNAMES = [username for username, _role in DEMO_ACCOUNTS]
# The demo department (the one `dept` and `deptlead` work for) has a few more handlers, so its
# leader has people to share the parts among (appeals.demo assigns them).
DEMO_DEPARTMENT_EXTRA_HANDLERS = 2

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴孔汤"
)
GIVEN_CHARACTERS = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鑫波宁海峰建国志强晓东丽华俊杰文博雪梅春花德福淑珍立新永红"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    post: str


def _person_name(rng: random.Random) -> tuple[str, str]:
    """(surname, given name) of a made-up person; one or two given characters as is common."""
    given = "".join(rng.choice(GIVEN_CHARACTERS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES), given


def seed_departments(district: Area) -> list[Department]:
    """The district's 55 handling units: district departments, utilities and property firms."""
    rng = random.Random(f"{district.code}:departments")
    rows = [
        Department(
            code=f"{district.code}-{suffix}",
            name=name,
            short_name=short,
            kind=kind,
            district=district,
            phone=f"0532-8{rng.randrange(10**6, 10**7)}",
        )
        for suffix, name, short, kind in DEPARTMENT_CATALOGUE
    ]
    Department.objects.bulk_create(rows, batch_size=USER_BATCH_SIZE)
    return list(Department.objects.filter(district=district).order_by("code"))


def seed_staff(*, district: Area, departments: list[Department], seed: int = 2024) -> list[DemoAccount]:
    """Staff for every role and post in the district, plus the fixed demo accounts (returned).

    Every grid gets a grid worker, every micro-grid a head, every community a secretary and a
    worker, every street its command centre, every department a handler and a leader.
    """
    rng = random.Random(f"{seed}:staff")
    password = make_password(DEMO_PASSWORD)
    areas = list(
        Area.objects.filter(path__startswith=district.path).order_by("path").values_list("pk", "code", "level", "name")
    )
    level_roles: dict[int, list[str]] = {
        AreaLevel.DISTRICT: [Role.DISTRICT_CENTRE],
        AreaLevel.STREET: [Role.STREET_COMMAND],
        AreaLevel.COMMUNITY: [Role.COMMUNITY_SECRETARY, Role.COMMUNITY_WORKER],
        AreaLevel.GRID: [Role.GRID_WORKER],
        AreaLevel.MICROGRID: [Role.MICROGRID_HEAD],
    }
    # (username, role, area id, department id)
    planned: list[tuple[str, str, int | None, int | None]] = []
    for pk, code, level, _name in areas:
        for role in level_roles[level]:
            planned.append((f"{USERNAME_PREFIX[role]}{code}", role, pk, None))
    for department in departments:
        for role in sorted(DEPARTMENT_ROLES):
            planned.append((f"{USERNAME_PREFIX[role]}{department.code}", role, None, department.pk))

    first_department = next(d for d in departments if d.code.endswith("-G01"))
    # Within a level, path order is code order, so the first row seen is the one to post to.
    first_area_id: dict[int, int] = {}
    for pk, _code, level, _name in areas:
        first_area_id.setdefault(level, pk)
    for username, role in DEMO_ACCOUNTS:
        if role == Role.ADMINISTRATOR:
            planned.append((username, role, None, None))
        elif role in DEPARTMENT_ROLES:
            planned.append((username, role, None, first_department.pk))
        else:
            planned.append((username, role, first_area_id[ROLE_AREA_LEVEL[role]], None))
    for n in range(2, DEMO_DEPARTMENT_EXTRA_HANDLERS + 2):
        prefix = USERNAME_PREFIX[Role.DEPARTMENT_HANDLER]
        planned.append((f"{prefix}{first_department.code}-{n}", Role.DEPARTMENT_HANDLER, None, first_department.pk))

    User = get_user_model()
    users = []
    for username, role, _area_id, _department_id in planned:
        surname, given = _person_name(rng)
        users.append(
            User(
                username=username,
                password=password,
                last_name=surname,
                first_name=given,
                # Only administrators use the Django admin (governance/admin_site.py); everyone
                # else works in the product's pages, which need no is_staff.
                is_staff=role == Role.ADMINISTRATOR,
                is_superuser=role == Role.ADMINISTRATOR,
            )
        )
    created = User.objects.bulk_create(users, batch_size=USER_BATCH_SIZE)
    user_ids = {user.username: user.pk for user in created}
    if any(pk is None for pk in user_ids.values()):
        # Backends that cannot return ids from a bulk insert: read them back by username.
        names = list(user_ids)
        for start in range(0, len(names), USER_BATCH_SIZE):
            chunk = names[start : start + USER_BATCH_SIZE]
            user_ids.update(User.objects.filter(username__in=chunk).values_list("username", "pk"))
    StaffPost.objects.bulk_create(
        [
            StaffPost(
                user_id=user_ids[username],
                role=role,
                area_id=area_id,
                department_id=department_id,
                title=ROLE_TITLES[role],
            )
            for username, role, area_id, department_id in planned
        ],
        batch_size=USER_BATCH_SIZE,
    )
    return demo_accounts()


def demo_accounts() -> list[DemoAccount]:
    """The fixed demo accounts that exist, in DEMO_ACCOUNTS order, with what each is posted to."""
    posts = {
        post.user.username: post
        for post in StaffPost.objects.filter(user__username__in=DEMO_USERNAMES, is_active=True).select_related(
            "user", "area", "department"
        )
    }
    accounts = []
    for username, role in DEMO_ACCOUNTS:
        post = posts.get(username)
        if post is None:
            continue
        if post.area is not None:
            where = f"{post.area.name} ({post.area.code})"
        elif post.department is not None:
            where = f"{post.department.name} ({post.department.code})"
        else:
            where = "全区 / everything"
        accounts.append(DemoAccount(username=username, password=DEMO_PASSWORD, role=role, post=where))
    return accounts


def delete_staff(district: Area) -> int:
    """Delete the district's staff (posted to its areas or departments) and the demo accounts."""
    User = get_user_model()
    posted = StaffPost.objects.filter(
        Q(area__path__startswith=district.path) | Q(department__district=district)
    ).values("user_id")
    user_ids = set(User.objects.filter(Q(pk__in=posted) | Q(username__in=DEMO_USERNAMES)).values_list("pk", flat=True))
    ids = sorted(user_ids)
    deleted = 0
    for start in range(0, len(ids), USER_BATCH_SIZE):
        chunk = ids[start : start + USER_BATCH_SIZE]
        StaffPost.objects.filter(user_id__in=chunk).delete()
        deleted += User.objects.filter(pk__in=chunk).delete()[1].get(User._meta.label, 0)
    return deleted


def delete_departments(district: Area) -> int:
    return Department.objects.filter(district=district).delete()[1].get(Department._meta.label, 0)
