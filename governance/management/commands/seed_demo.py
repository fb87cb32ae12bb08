"""`manage.py seed_demo`: a demo district shaped like Shibei, Qingdao, with staff for every role.

Seeding runs as a list of steps (SEED_STEPS, dotted paths to `step(context) -> None`), so later
apps add their own demo data by adding a step; a step whose module does not exist yet (an app's
`demo` module still to be written) is skipped. RESET_STEPS undo them in reverse dependency order.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import translation

from governance import demo as governance_demo
from governance.models import Department, Role
from grids import demo as grids_demo
from grids.models import Area, AreaLevel


@dataclass
class SeedContext:
    """What the steps share: the options, what earlier steps created, and lines for the summary."""

    seed: int
    scale: float
    district: Area | None = None
    departments: list[Department] = field(default_factory=list)
    accounts: list[governance_demo.DemoAccount] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)


def seed_area_tree(context: SeedContext) -> None:
    specs = grids_demo.generate_areas(seed=context.seed, scale=context.scale)
    grids_demo.seed_areas(specs)
    context.district = Area.objects.get(code=grids_demo.DISTRICT_CODE)
    for level in AreaLevel:
        context.summary[f"areas: {level.name.lower()}"] = sum(1 for spec in specs if spec.level == level)


def seed_handling_units(context: SeedContext) -> None:
    context.departments = governance_demo.seed_departments(context.district)
    context.summary["departments"] = len(context.departments)


def seed_people(context: SeedContext) -> None:
    context.accounts = governance_demo.seed_staff(
        district=context.district, departments=context.departments, seed=context.seed
    )
    context.summary["staff users"] = get_user_model().objects.filter(posts__isnull=False).distinct().count()


def delete_people(district: Area) -> None:
    governance_demo.delete_staff(district)


def delete_handling_units(district: Area) -> None:
    governance_demo.delete_departments(district)


def delete_area_tree(district: Area) -> None:
    grids_demo.delete_areas(district.code)


SEED_STEPS = [
    "governance.management.commands.seed_demo.seed_area_tree",
    "governance.management.commands.seed_demo.seed_handling_units",
    "governance.management.commands.seed_demo.seed_people",
    # Buildings, houses, residents and tags (one community at real scale).
    "residents.demo.seed_records",
    # Petitions history, once the appeals app provides it.
    "appeals.demo.seed_history",
]
# Dependants first: rows that PROTECT areas and departments go before them.
RESET_STEPS = [
    "appeals.demo.delete_history",
    "residents.demo.delete_records",
    "governance.management.commands.seed_demo.delete_people",
    "governance.management.commands.seed_demo.delete_handling_units",
    "governance.management.commands.seed_demo.delete_area_tree",
]

ROLE_NAMES_ZH: dict[str, str] = {
    Role.GRID_WORKER: "网格员",
    Role.MICROGRID_HEAD: "微网格长",
    Role.COMMUNITY_WORKER: "社区工作者",
    Role.COMMUNITY_SECRETARY: "社区书记",
    Role.STREET_COMMAND: "街道指挥中心",
    Role.DISTRICT_CENTRE: "区级指挥中心",
    Role.DEPARTMENT_HANDLER: "部门承办人",
    Role.DEPARTMENT_LEADER: "部门负责人",
    Role.ADMINISTRATOR: "系统管理员",
}


def load_step(dotted_path: str) -> Callable[..., Any] | None:
    """The step's function, or None when its module does not exist (an app not there yet)."""
    module_name, _, attribute = dotted_path.rpartition(".")
    try:
        spec = importlib.util.find_spec(module_name)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return None
    return getattr(importlib.import_module(module_name), attribute)


class Command(BaseCommand):
    help = "Create a demo district shaped like Shibei, Qingdao (areas, departments, staff, demo accounts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2024, help="Random seed (default 2024).")
        parser.add_argument(
            "--scale", type=float, default=1.0, help="Multiply the area counts below the district (default 1.0)."
        )
        parser.add_argument("--reset", action="store_true", help="Delete the previous demo data first.")

    def handle(self, *args: Any, seed: int, scale: float, reset: bool, **options: Any) -> None:
        if scale <= 0:
            raise CommandError("--scale must be positive.")
        self.verbosity = options.get("verbosity", 1)
        started = time.monotonic()
        context = SeedContext(seed=seed, scale=scale)
        with transaction.atomic():
            if reset:
                district = Area.objects.filter(code=grids_demo.DISTRICT_CODE).first()
                if district is not None:
                    self._run(RESET_STEPS, district)
                # Demo accounts left over without a district are removed too.
                get_user_model().objects.filter(username__in=governance_demo.DEMO_USERNAMES).delete()
            # The demo district only goes into a database without areas, never beside real ones.
            if Area.objects.exists():
                if reset:
                    raise CommandError("Areas other than the demo district exist; not seeding beside them.")
                self.stdout.write(
                    "Areas already exist; nothing changed. Run with --reset to replace the demo district."
                )
                self._print_accounts(governance_demo.demo_accounts())
                return
            taken = list(
                get_user_model()
                .objects.filter(username__in=governance_demo.DEMO_USERNAMES)
                .values_list("username", flat=True)
            )
            if taken:
                raise CommandError(f"Users {', '.join(sorted(taken))} already exist; run with --reset.")
            self._run(SEED_STEPS, context)
        self._print_summary(context, time.monotonic() - started)
        self._print_accounts(context.accounts)

    def _run(self, steps: list[str], argument: Any) -> None:
        for dotted_path in steps:
            step = load_step(dotted_path)
            if step is None:
                if self.verbosity >= 2:
                    self.stdout.write(f"skipped {dotted_path} (module not present)")
                continue
            step_started = time.monotonic()
            step(argument)
            if self.verbosity >= 2:
                self.stdout.write(f"{dotted_path}: {time.monotonic() - step_started:.1f} s")

    def _print_summary(self, context: SeedContext, elapsed: float) -> None:
        self.stdout.write(self.style.SUCCESS(f"Seeded the demo district (seed {context.seed}, scale {context.scale})."))
        with translation.override("en"):
            for label, count in context.summary.items():
                self.stdout.write(f"  {label:<24} {count:>8,}")
        self.stdout.write(f"  {'elapsed seconds':<24} {elapsed:>8.1f}")

    def _print_accounts(self, accounts: list[governance_demo.DemoAccount]) -> None:
        if not accounts:
            return
        self.stdout.write("")
        self.stdout.write("Demo accounts:")
        header = f"  {'username':<10} {'password':<10} {'role':<32} post"
        self.stdout.write(header)
        with translation.override("en"):
            for account in accounts:
                role = f"{Role(account.role).label} / {ROLE_NAMES_ZH[account.role]}"
                self.stdout.write(f"  {account.username:<10} {account.password:<10} {role:<32} {account.post}")
