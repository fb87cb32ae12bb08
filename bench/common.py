"""What every bench shares: its own database, the machine's load, percentiles and goal checks.

A bench records each goal with `Goals.check(...)`; `Goals.exit_code()` is 1 when any goal was
missed, so `python bench/x.py && echo ok` is honest. The load line is printed at the start and at
the end of a run: the machine is shared, and a figure means little without it.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")


def load_line() -> str:
    """The load averages (1, 5, 15 min), the number of cores and the uptime, as `uptime` shows them."""
    one, five, fifteen = os.getloadavg()
    try:
        seconds = float(Path("/proc/uptime").read_text().split()[0])
        up = f", up {seconds / 3600:.1f} h"
    except OSError:
        up = ""
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores{up}"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of the samples."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def runs_per_user(runs: int, users: int, most_users: int) -> int:
    """Requests per user so that every role's cell has as many samples as the role with the most
    users (`runs` × `most_users`): a p95 of one district user's 20 requests is their second
    slowest, of six community secretaries' 120 requests their seventh slowest."""
    return max(runs, -(-runs * most_users // max(users, 1)))


def summary(values: list[float]) -> str:
    return f"p50 {statistics.median(values):7.2f} ms  p95 {percentile(values, 0.95):7.2f} ms  (n={len(values)})"


@dataclass
class Goals:
    """The goals a bench checks; prints each verdict and gives the process's exit code."""

    results: list[tuple[str, bool]] = field(default_factory=list)

    def check(self, label: str, met: bool, detail: str = "") -> bool:
        self.results.append((label, met))
        print(f"goal:     {'met   ' if met else 'MISSED'}  {label}{f'  ({detail})' if detail else ''}")
        return met

    def exit_code(self) -> int:
        missed = [label for label, met in self.results if not met]
        print(f"load:     {load_line()}")
        if missed:
            print(f"verdict:  {len(missed)} of {len(self.results)} goals missed: exit 1")
            return 1
        print(f"verdict:  all {len(self.results)} goals met: exit 0")
        return 0


# What `django.test.Client` sends to stand for the TLS-terminating proxy in front of a deployment.
DEPLOYED_CLIENT = {"HTTP_X_FORWARDED_PROTO": "https"}


def deployed_settings() -> Path:
    """Run this process as deployed (docs/deployment.md): DEBUG off (no query log, no template debug
    data, the manifest static storage), the secret key of a DEBUG-on run, `testserver`
    (django.test.Client's host) allowed, a temporary STATIC_ROOT for `bench_database` to collect
    into (it also tunes the collector as governance/wsgi.py does). Requests then come as through
    the TLS proxy (`DEPLOYED_CLIENT`), or SECURE_SSL_REDIRECT answers 301. Must run before Django is
    set up; returns the STATIC_ROOT."""
    static_root = Path(tempfile.mkdtemp(prefix="bench_static_"))
    os.environ["DEBUG"] = "0"
    # governance/settings.py's key of a DEBUG-on run: the personal-data keys derive from it, so a
    # bench database seeded either way (its phones encrypted) is read back alike with --reuse.
    os.environ.setdefault("SECRET_KEY", "insecure-development-key-only-used-with-debug-on-" + "x" * 16)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["STATIC_ROOT"] = str(static_root)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return static_root


def bench_database(
    *, require_postgres: bool, name: str, reuse: bool = False, deployed: bool = False
) -> Callable[[bool], None]:
    """Point Django at the bench's own database, set Django up, migrate; returns `cleanup(drop)`.

    `deployed=True`: the process runs as deployed (`deployed_settings`), its static files collected.

    Must run before anything imports Django models. The database named in DATABASE_URL is never
    touched: the bench's database lives beside it on the same server. `reuse=True` keeps an
    existing database of that name (a 1M-row seed takes minutes) instead of recreating it. Exits 2
    when PostgreSQL is required and DATABASE_URL is not a PostgreSQL URL.
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
    static_root = deployed_settings() if deployed else None
    if is_postgres:
        import psycopg

        if parts.path.lstrip("/") == name:
            sys.exit(f"DATABASE_URL already names {name!r}; point it at another database on the server.")
        admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
        with psycopg.connect(admin_url, autocommit=True) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not (reuse and exists):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

        def cleanup(drop: bool = True) -> None:
            from django.db import connections

            connections.close_all()
            if drop:
                with psycopg.connect(admin_url, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    else:
        folder = tempfile.mkdtemp(prefix="bench_")
        path = Path(folder) / f"{name}.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"

        def cleanup(drop: bool = True) -> None:
            from django.db import connections

            connections.close_all()
            for leftover in Path(folder).iterdir():
                leftover.unlink()
            Path(folder).rmdir()

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    if static_root is None:
        return cleanup
    call_command("collectstatic", interactive=False, verbosity=0)
    from governance.runtime import tune_gc

    tune_gc()  # what governance/wsgi.py does once a worker has loaded the app

    def cleanup_static(drop: bool = True) -> None:
        import shutil

        shutil.rmtree(static_root, ignore_errors=True)
        cleanup(drop)

    return cleanup_static


def database_label() -> str:
    """The database's vendor and name; on PostgreSQL also its version and `shared_buffers` (the
    server's cache: with its default 128 MB a district-wide scan of a million rows reads from the
    operating system's cache instead, docs/deployment.md)."""
    from django.db import connection

    label = f"{connection.vendor} {connection.settings_dict['NAME']}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version'), current_setting('shared_buffers')")
            version, buffers = cursor.fetchone()
        label += f" (PostgreSQL {version}, shared_buffers {buffers})"
    return label


def seed_district(seed: int, scale: float = 1.0):
    from grids import demo as grids_demo
    from grids.models import Area

    grids_demo.seed_areas(grids_demo.generate_areas(seed=seed, scale=scale))
    return Area.objects.get(code=grids_demo.DISTRICT_CODE)
