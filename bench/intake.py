"""Petition intake: the real API, over HTTP and in process, against a bare insert.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/governance REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/intake.py [-n 300] [--port 8765] [--profile] [--route-inline]

Runs in its own database (`bench_intake`, beside the one DATABASE_URL names, which is never
touched; a temporary SQLite file when DATABASE_URL is not PostgreSQL — then without the HTTP part).
The demo district's area tree and categories are seeded so the API validates real codes.

1. HTTP, the goal: gunicorn (one sync worker, DEBUG off, as deployed) on 127.0.0.1:PORT serves the
   project plus the bench-only `POST /bench/bare-insert/` (bench/intake_urls.py, a URLconf only
   this bench loads). N times, interleaved so both see the same load: our
   `POST /api/v1/petitions/` as a logged-in staff member (session cookie and CSRF token, the
   routing task published after commit as in production) and the bare insert of the same values.
   Goal: our throughput ≥ RATIO_TARGET × the bare view's. A new connection per request for both
   (gunicorn's sync worker closes each one).
2. In process, to see where the time goes: the same POST through django.test.Client against
   `Petition.objects.create` (no HTTP, session or middleware: no goal, the gap is larger), the
   queries of one POST (the django query log), and with --profile the cProfile of the requests.
Exits 1 when the goal is missed or a request fails.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import json
import os
import pstats
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Goals, bench_database, database_label, load_line, percentile, seed_district

ROOT = Path(__file__).resolve().parent.parent

RATIO_TARGET = 0.5
DEFAULT_PORT = 8765
SERVER_START_SECONDS = 30
# Points drawn inside the demo district's rectangle (grids.demo.DISTRICT_BOUNDS).
DISTRICT_BOUNDS = (120.33, 36.06, 120.43, 36.13)
API = "/api/v1/petitions/"
BARE = "/bench/bare-insert/"


def line(label: str, samples: list[float]) -> str:
    mean = statistics.mean(samples)
    return (
        f"{label:<9} {mean:7.2f} ms mean, p50 {percentile(samples, 0.5):.2f}, p95 {percentile(samples, 0.95):.2f}"
        f"  ({1000 / mean:,.0f}/s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--petitions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="gunicorn's port on 127.0.0.1")
    parser.add_argument("--profile", action="store_true", help="print where the in-process requests spend time")
    parser.add_argument(
        "--route-inline",
        action="store_true",
        help="run the routing task inside the request (eager) instead of enqueueing it as production does",
    )
    args = parser.parse_args()
    if args.route_inline:
        os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    # The server and this process share the key, so a session made here is valid there.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    # One user posts hundreds of petitions a minute here: the bench times the request, not the
    # per-user limit of the API's create (RATE_API_CREATE, 30 a minute), which would answer 429.
    os.environ.setdefault("RATE_API_CREATE", "1000000/min")
    print(f"load:     {load_line()}")
    cleanup = bench_database(require_postgres=False, name="bench_intake")
    try:
        return run(args)
    finally:
        cleanup()


def run(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from appeals.models import Category, Channel, Petition, Status
    from governance.models import Role, StaffPost

    district = seed_district(args.seed)
    rng = random.Random(args.seed)
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True))
    by_code = {c.code: c for c in categories}
    staff = get_user_model().objects.create_user("bench_staff", password="x", is_staff=True)
    StaffPost.objects.create(user=staff, role=Role.DISTRICT_CENTRE, area=district)
    print(f"database: {database_label()}")

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

    goals = Goals()
    if connection.vendor == "postgresql":
        http_part(args, staff, payload, by_code, goals)
    else:
        print("http:     skipped (needs PostgreSQL: gunicorn and this process share the database)")

    # --- In process: where the time goes --------------------------------------------------------
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # django.test.Client's host
    client = Client()
    client.force_login(staff)

    def post(i: int) -> None:
        response = client.post(API, payload(i), content_type="application/json")
        if response.status_code != 201:
            sys.exit(f"API answered {response.status_code}: {response.content[:300]!r}")

    for i in range(5):  # warm: URL resolver, spatial index, caches
        post(-10 - i)
    with CaptureQueriesContext(connection) as captured:
        post(-1)
    print(f"queries:  {len(captured.captured_queries)} in one POST {API} (the django query log):")
    for query in captured.captured_queries:
        print(f"          {query['time']:>6} s  {query['sql'][:110]}")

    profiler = cProfile.Profile() if args.profile else None
    api_ms: list[float] = []
    bare_ms: list[float] = []
    for i in range(args.petitions):
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        post(i)
        if profiler:
            profiler.disable()
        api_ms.append((time.perf_counter() - started) * 1000)
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
    routed = Petition.objects.exclude(status=Status.SUBMITTED).count()
    routing = "routing inline (eager task after commit)" if args.route_inline else "routing task published after commit"
    print(f"process:  POST {API} through django.test.Client (staff session), {routing}; {routed} routed")
    print(line("api", api_ms))
    print(line("orm", bare_ms) + "  (Petition.objects.create, no request at all)")
    print(f"ratio:    {statistics.mean(bare_ms) / statistics.mean(api_ms):.2f} × (information only, no goal)")
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            int(os.environ.get("BENCH_LINES", "40"))
        )
    return goals.exit_code()


def http_part(args: argparse.Namespace, staff, payload, by_code, goals: Goals) -> None:
    """Our POST and the bare-insert view, both through gunicorn on loopback."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    store[SESSION_KEY] = str(staff.pk)
    # The backend a log-in records (the first that can load users, as Client.force_login picks).
    store[BACKEND_SESSION_KEY] = next(
        path for path in settings.AUTHENTICATION_BACKENDS if hasattr(import_string(path), "get_user")
    )
    store[HASH_SESSION_KEY] = staff.get_session_auth_hash()
    store.create()
    csrf = secrets.token_hex(16)  # a 32-character CSRF secret, sent as cookie and header
    headers = {
        "Content-Type": "application/json",
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
    }
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.intake_settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }
    server_profile = Path(tempfile.mkdtemp(prefix="bench_intake_")) / "server.prof" if args.profile else None
    if server_profile:
        env["BENCH_SERVER_PROFILE"] = str(server_profile)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "--bind", f"127.0.0.1:{args.port}", "--workers", "1", "--log-level", "warning",
         "governance.wsgi:application"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    try:

        def request(method: str, url: str, body: dict | None = None, extra: dict | None = None) -> tuple[int, bytes]:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            try:
                conn.request(method, url, body=json.dumps(body) if body is not None else None, headers=extra or {})
                response = conn.getresponse()
                return response.status, response.read()
            finally:
                conn.close()

        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                if request("GET", "/health/")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit(f"gunicorn did not answer on 127.0.0.1:{args.port} within {SERVER_START_SECONDS} s")
            time.sleep(0.2)

        def timed_post(url: str, body: dict) -> float:
            started = time.perf_counter()
            status, content = request("POST", url, body, headers)
            elapsed = (time.perf_counter() - started) * 1000
            if status not in (200, 201):
                sys.exit(f"POST {url} answered {status}: {content[:300]!r}")
            return elapsed

        for i in range(5):  # warm: the worker's first requests load code, the index and caches
            timed_post(API, payload(-100 - i))
            timed_post(BARE, {**payload(-100 - i), "category_id": 1})
        api_ms: list[float] = []
        bare_ms: list[float] = []
        for i in range(args.petitions):
            data = payload(10_000 + i)
            api_ms.append(timed_post(API, data))
            bare_ms.append(timed_post(BARE, {**data, "category_id": by_code[data["category"]].pk}))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    ratio = statistics.mean(bare_ms) / statistics.mean(api_ms)
    print(
        f"http:     gunicorn (1 sync worker, DEBUG off) on 127.0.0.1:{args.port}, {args.petitions} of each, interleaved"
    )
    print(line("api", api_ms) + f"  POST {API}, staff session + CSRF, routing published after commit")
    print(line("bare", bare_ms) + f"  POST {BARE}, one Petition.objects.create")
    if server_profile:
        print(f"profile:  the gunicorn worker's POST {API} requests (cProfile, {server_profile}):")
        pstats.Stats(str(server_profile)).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            int(os.environ.get("BENCH_LINES", "40"))
        )
    goals.check(
        f"HTTP: our POST's throughput ≥ {RATIO_TARGET} × the bare-insert view's",
        ratio >= RATIO_TARGET,
        f"{ratio:.2f} ×",
    )


if __name__ == "__main__":
    sys.exit(main())
