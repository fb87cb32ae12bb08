"""Petition intake: N petitions through the real API against a bare INSERT.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/governance .venv/bin/python bench/intake.py [-n 300]

Runs in its own database: on PostgreSQL it creates `bench_governance` on the server DATABASE_URL
names (the database in the URL is never touched) and drops it afterwards; without a PostgreSQL
URL it uses a temporary SQLite file. The demo district's area tree is generated (grids.demo) so
routing finds real micro-grids.

Measured per petition:
- api: `POST /api/v1/petitions/` through django.test.Client as a logged-in staff member:
  validation, insert, event, and the routing task published to the broker after commit (Redis
  when REDIS_URL is set), as in production. `--route-inline` runs routing inside the request
  instead (eager), to see the whole chain's cost.
  When the API is not there yet (404), `appeals.services.petition_submit` is timed instead and the
  output says so.
- bare: `Petition.objects.create(...)` with the same values, nothing else (the baseline).
The ratio is API throughput / bare-insert throughput (goal ≥ RATIO_TARGET).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

BENCH_DATABASE = "bench_governance"
RATIO_TARGET = 0.5
# Points drawn inside the demo district's rectangle (grids.demo.DISTRICT_BOUNDS).
DISTRICT_BOUNDS = (120.33, 36.06, 120.43, 36.13)


def bench_database(*, require_postgres: bool, name: str = BENCH_DATABASE) -> Callable[[], None]:
    """Point Django at a fresh bench database, set Django up, migrate; returns the cleanup.

    Must run before anything imports Django models. Exits 2 when PostgreSQL is required and
    DATABASE_URL is not a PostgreSQL URL.
    """
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    is_postgres = parts.scheme in ("postgres", "postgresql")
    if require_postgres and not is_postgres:
        print(
            "This bench needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/anydb "
            f"(it creates and drops its own database {name!r}).",
            file=sys.stderr,
        )
        sys.exit(2)
    if is_postgres:
        import psycopg

        if parts.path.lstrip("/") == name:
            sys.exit(f"DATABASE_URL already names {name!r}; point it at another database on the server.")
        admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

        def cleanup() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    else:
        folder = tempfile.mkdtemp(prefix="bench_")
        path = Path(folder) / f"{name}.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"

        def cleanup() -> None:
            from django.db import connections

            connections.close_all()
            for leftover in Path(folder).iterdir():
                leftover.unlink()
            Path(folder).rmdir()

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return cleanup


def database_label() -> str:
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def seed_district(seed: int, scale: float = 1.0):
    from grids import demo as grids_demo
    from grids.models import Area

    grids_demo.seed_areas(grids_demo.generate_areas(seed=seed, scale=scale))
    return Area.objects.get(code=grids_demo.DISTRICT_CODE)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--petitions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--profile", action="store_true", help="print where the API requests spend their time")
    parser.add_argument(
        "--route-inline",
        action="store_true",
        help="run the routing task inside the request (eager) instead of enqueueing it as production does",
    )
    args = parser.parse_args()
    if args.route_inline:
        os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    cleanup = bench_database(require_postgres=False, name="bench_intake")
    try:
        return run(args)
    finally:
        cleanup()


def run(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from appeals.models import Category, Channel, Petition, Status
    from appeals.services import petition_submit
    from governance.models import Role, StaffPost

    district = seed_district(args.seed)
    rng = random.Random(args.seed)
    categories = list(Category.objects.filter(parent__isnull=False))
    staff = get_user_model().objects.create_user("bench_staff", password="x", is_staff=True)
    StaffPost.objects.create(user=staff, role=Role.DISTRICT_CENTRE, area=district)
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # django.test.Client's host
    client = Client()
    client.force_login(staff)

    def payload(i: int) -> dict:
        x0, y0, x1, y1 = DISTRICT_BOUNDS
        return {
            "channel": Channel.STAFF,
            "title": f"测试诉求{i}：楼道堆放杂物",
            "description": "楼道里堆满了纸箱和旧家具，影响通行，存在消防隐患。",
            "contact_phone": f"138{rng.randrange(10**8):08d}",
            "category": rng.choice(categories).code,
            "lon": round(rng.uniform(x0, x1), 6),
            "lat": round(rng.uniform(y0, y1), 6),
        }

    # Warm up (URL resolver, spatial index, first queries), then decide API or service.
    probe = client.post("/api/v1/petitions/", payload(-1), content_type="application/json")
    use_api = probe.status_code in (200, 201)
    if not use_api:
        print(f"API probe answered {probe.status_code}: {probe.content[:300]!r}", file=sys.stderr)
    by_code = {c.code: c for c in categories}
    for i in range(5):
        data = payload(-10 - i)
        if use_api:
            client.post("/api/v1/petitions/", data, content_type="application/json")
        else:
            petition_submit(**{**data, "category": by_code[data["category"]]}, actor=staff)

    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    api_ms: list[float] = []
    for i in range(args.petitions):
        data = payload(i)
        started = time.perf_counter()
        if use_api:
            response = client.post("/api/v1/petitions/", data, content_type="application/json")
            if response.status_code not in (200, 201):
                print(f"API answered {response.status_code}: {response.content[:300]!r}", file=sys.stderr)
                return 1
        else:
            petition_submit(**{**data, "category": by_code[data["category"]]}, actor=staff)
        api_ms.append((time.perf_counter() - started) * 1000)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    routed = Petition.objects.exclude(status=Status.SUBMITTED).count()

    bare_ms: list[float] = []
    for i in range(args.petitions):
        data = payload(i)
        started = time.perf_counter()
        Petition.objects.create(
            tracking_no=f"B{i:011d}",
            channel=data["channel"],
            title=data["title"],
            description=data["description"],
            contact_phone=data["contact_phone"],
            category=by_code[data["category"]],
            lon=data["lon"],
            lat=data["lat"],
            created_at=timezone.now(),
        )
        bare_ms.append((time.perf_counter() - started) * 1000)

    api_mean, bare_mean = statistics.mean(api_ms), statistics.mean(bare_ms)
    ratio = bare_mean / api_mean
    what = (
        "POST /api/v1/petitions/ (django.test.Client, staff session)"
        if use_api
        else f"appeals.services.petition_submit (API answered {probe.status_code}: not ready)"
    )
    print(f"database: {database_label()}")
    routing = "routing inline (eager task after commit)" if args.route_inline else "routing task published after commit"
    print(f"intake:   {what}, {routing}")
    print(f"          {routed} of {args.petitions + 6} petitions routed")
    print(
        f"api:      {api_mean:7.2f} ms mean, p50 {percentile(api_ms, 0.5):.2f}, p95 {percentile(api_ms, 0.95):.2f}"
        f"  ({1000 / api_mean:,.0f}/s)"
    )
    print(
        f"bare:     {bare_mean:7.2f} ms mean, p50 {percentile(bare_ms, 0.5):.2f}, p95 {percentile(bare_ms, 0.95):.2f}"
        f"  ({1000 / bare_mean:,.0f}/s)"
    )
    verdict = "meets" if ratio >= RATIO_TARGET else "misses"
    print(f"ratio:    api throughput = {ratio:.2f} × bare insert ({verdict} the goal ≥ {RATIO_TARGET})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
