"""A small seeded world for the security suite: two streets, petitions in both, staff of every role.

Everything the matrix calls "outside" lives in the second street (DS1) or belongs to another
department; every persona is posted in the first street (DS0) or to an unrelated department.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from appeals.models import Category, CategoryKind, Channel, Petition, PetitionPhoto
from appeals.services import petition_route, petition_submit
from governance.models import Department, Role
from tests.factories import Tree, build_tree, make_department, make_user

# Inside DS0C0G0M0 (the personas' micro-grid) and inside DS1C1G1M1 (the other street).
POINT_INSIDE = (120.005, 36.005)
POINT_OUTSIDE = (120.035, 36.035)
# Strings only the outside petition carries: a page or list that shows one of them leaks it.
OUTSIDE_TITLE = "外街道机密诉求甲乙丙"
OUTSIDE_PHONE = "13912345678"
OUTSIDE_NAME = "欧阳外街"


@dataclass
class World:
    tree: Tree
    department: Department  # the department petitions are dispatched to
    other_department: Department  # unrelated: its staff see none of the petitions
    category: Category
    inside: Petition  # in DS0C0G0M0, filed by `submitter`
    outside: Petition  # in DS1C1G1M1, filed by `outside_submitter`
    photo: PetitionPhoto  # a photo of `outside`
    users: dict[str, Any] = field(default_factory=dict)


# The roles of the matrix, each posted away from `World.outside` (None: anonymous).
MATRIX_ROLES = (
    "grid_worker",
    "microgrid_head",
    "community_worker",
    "community_secretary",
    "street_command",
    "department_handler",
    "department_leader",
    "resident",
    "anonymous",
)


def _submit(category: Category, point: tuple[float, float], **overrides: Any) -> Petition:
    values = {
        "channel": Channel.MOBILE,
        "title": "小区门口垃圾堆积",
        "description": "幸福路12号院门口垃圾三天没人清运。",
        "contact_phone": "13800138000",
        "category": category,
        "lon": point[0],
        "lat": point[1],
    }
    values.update(overrides)
    petition = petition_submit(**values).petition
    petition_route(petition_id=petition.pk)
    petition.refresh_from_db()
    return petition


def build_world() -> World:
    tree = build_tree()
    department = make_department()
    other_department = make_department("YL", "区医疗保障局")
    parent = Category.objects.create(code="T01", name="测试市容环境", kind=CategoryKind.EVENT)
    category = Category.objects.create(
        code="T0101", name="测试暴露垃圾", kind=CategoryKind.EVENT, parent=parent, default_department=department
    )
    users = {
        # is_staff like accounts made before the admin became administrators-only: the admin
        # refuses them by their posts, not by the flag.
        "grid_worker": make_user("m_grid", role=Role.GRID_WORKER, area=tree["DS0C0G0"], is_staff=True),
        "microgrid_head": make_user("m_micro", role=Role.MICROGRID_HEAD, area=tree["DS0C0G0M0"], is_staff=True),
        "community_worker": make_user("m_community", role=Role.COMMUNITY_WORKER, area=tree["DS0C0"], is_staff=True),
        "community_secretary": make_user(
            "m_secretary", role=Role.COMMUNITY_SECRETARY, area=tree["DS0C0"], is_staff=True
        ),
        "street_command": make_user("m_street", role=Role.STREET_COMMAND, area=tree["DS0"], is_staff=True),
        "department_handler": make_user(
            "m_handler", role=Role.DEPARTMENT_HANDLER, department=other_department, is_staff=True
        ),
        "department_leader": make_user(
            "m_leader", role=Role.DEPARTMENT_LEADER, department=other_department, is_staff=True
        ),
        "resident": make_user("m_resident"),
        "outside_submitter": make_user("m_outsider"),
        "outside_street_command": make_user("m_street1", role=Role.STREET_COMMAND, area=tree["DS1"], is_staff=True),
    }
    inside = _submit(category, POINT_INSIDE, submitter=users["resident"])
    outside = _submit(
        category,
        POINT_OUTSIDE,
        title=OUTSIDE_TITLE,
        contact_phone=OUTSIDE_PHONE,
        contact_name=OUTSIDE_NAME,
        submitter=users["outside_submitter"],
    )
    photo = PetitionPhoto.objects.create(
        petition=outside, image=SimpleUploadedFile("outside.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    )
    return World(
        tree=tree,
        department=department,
        other_department=other_department,
        category=category,
        inside=inside,
        outside=outside,
        photo=photo,
        users=users,
    )


@pytest.fixture
def world(db, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path
    # Nobody logs in with a password here (force_login): the default hasher would cost seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_world()
