"""Small builders for test data: an area tree of rectangles and staff with posts."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from governance.models import Department, Role, StaffPost
from grids.models import Area, AreaLevel
from grids.services import area_create


def rectangle(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@dataclass
class Tree:
    """A district of 2 streets × 2 communities × 2 grids × 2 micro-grids, unit squares at the bottom.

    Micro-grid (i, j) covers [120 + i*0.01, 120 + (i+1)*0.01] × [36 + j*0.01, 36 + (j+1)*0.01],
    with i, j in 0..3; streets split x, communities split y, grids split x, micro-grids split y.
    """

    district: Area
    areas: dict[str, Area] = field(default_factory=dict)

    def __getitem__(self, code: str) -> Area:
        return self.areas[code]


STEP = 0.01


def build_tree(prefix: str = "D") -> Tree:
    district = area_create(
        code=prefix, name="测试区", level=AreaLevel.DISTRICT, boundary=rectangle(120, 36, 120 + 4 * STEP, 36 + 4 * STEP)
    )
    tree = Tree(district=district, areas={prefix: district})
    for s in range(2):
        street = area_create(
            code=f"{prefix}S{s}",
            name=f"第{s + 1}街道",
            level=AreaLevel.STREET,
            parent=district,
            boundary=rectangle(120 + 2 * s * STEP, 36, 120 + (2 * s + 2) * STEP, 36 + 4 * STEP),
        )
        tree.areas[street.code] = street
        for c in range(2):
            community = area_create(
                code=f"{street.code}C{c}",
                name=f"第{s + 1}街道{c + 1}社区",
                level=AreaLevel.COMMUNITY,
                parent=street,
                boundary=rectangle(
                    120 + 2 * s * STEP, 36 + 2 * c * STEP, 120 + (2 * s + 2) * STEP, 36 + (2 * c + 2) * STEP
                ),
            )
            tree.areas[community.code] = community
            for g in range(2):
                i = 2 * s + g
                grid = area_create(
                    code=f"{community.code}G{g}",
                    name=f"{community.name}{g + 1}网格",
                    level=AreaLevel.GRID,
                    parent=community,
                    boundary=rectangle(
                        120 + i * STEP, 36 + 2 * c * STEP, 120 + (i + 1) * STEP, 36 + (2 * c + 2) * STEP
                    ),
                )
                tree.areas[grid.code] = grid
                for m in range(2):
                    j = 2 * c + m
                    microgrid = area_create(
                        code=f"{grid.code}M{m}",
                        name=f"{grid.name}{m + 1}微网格",
                        level=AreaLevel.MICROGRID,
                        parent=grid,
                        boundary=rectangle(120 + i * STEP, 36 + j * STEP, 120 + (i + 1) * STEP, 36 + (j + 1) * STEP),
                        households=60,
                    )
                    tree.areas[microgrid.code] = microgrid
    return tree


def make_user(
    username: str, *, role: str | None = None, area: Area | None = None, department: Department | None = None, **extra
):
    user = get_user_model().objects.create_user(username=username, password="pass-12345", **extra)
    if role is not None:
        StaffPost.objects.create(user=user, role=role, area=area, department=department)
    return user


def make_department(code: str = "CG", name: str = "区城市管理局") -> Department:
    return Department.objects.create(code=code, name=name, short_name=name[:4])


__all__ = ["Role", "Tree", "build_tree", "make_department", "make_user", "rectangle"]
