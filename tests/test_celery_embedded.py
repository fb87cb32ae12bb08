"""A real worker and beat run on the embedded (filesystem) broker, and on Redis when there is one.

Each test works in its own DATA_DIR (SQLite file, broker folder, beat schedule), starts Celery as
separate processes exactly as the Procfile does, and waits for the heartbeat task's row.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKER_WAIT_SECONDS = 30
pytestmark = pytest.mark.slow


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DATA_DIR": str(tmp_path / "data"),
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        # The whole session: the worker's pool children too.
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def heartbeat_at(env: dict[str, str]) -> str | None:
    db = Path(env["DATA_DIR"]) / "governance.sqlite3"
    with sqlite3.connect(db, timeout=10) as conn:
        row = conn.execute("SELECT at FROM governance_heartbeat WHERE name = 'worker'").fetchone()
    return row[0] if row else None


def wait_for_heartbeat(env: dict[str, str], worker: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + WORKER_WAIT_SECONDS
    while time.monotonic() < deadline:
        assert worker.poll() is None, f"the worker exited:\n{log.read_text()}"
        at = heartbeat_at(env)
        if at:
            return at
        time.sleep(0.3)
    pytest.fail(f"no heartbeat within {WORKER_WAIT_SECONDS} s; worker log:\n{log.read_text()}")


def enqueue_heartbeat(env: dict[str, str], queue: str) -> None:
    run(
        [
            "-c",
            "import sys, django; django.setup(); from governance.tasks import heartbeat; "
            "heartbeat.apply_async(queue=sys.argv[1])",
            queue,
        ],
        env,
    )


def worker_args(queue: str) -> list[str]:
    # The Procfile's worker, on a queue of this test's own so no other worker can take the task.
    return [
        "-m",
        "celery",
        "-A",
        "governance",
        "worker",
        "-l",
        "info",
        "--concurrency",
        "2",
        "--without-mingle",
        "--without-gossip",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
    ]


def check_worker_runs_heartbeat(tmp_path: Path, env: dict[str, str]) -> None:
    run(["manage.py", "migrate", "--no-input", "-v", "0"], env)
    assert heartbeat_at(env) is None
    queue = f"test-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"

    with process(worker_args(queue), env, log) as worker:
        enqueue_heartbeat(env, queue)
        wait_for_heartbeat(env, worker, log)

    assert "governance.heartbeat" in log.read_text()


def test_a_worker_on_the_embedded_broker_runs_an_enqueued_task(tmp_path):
    env = app_env(tmp_path)

    check_worker_runs_heartbeat(tmp_path, env)

    assert (tmp_path / "data" / "broker" / "queue").is_dir()


@pytest.mark.redis
def test_a_worker_on_redis_runs_an_enqueued_task(tmp_path):
    env = app_env(tmp_path, REDIS_URL=os.environ["REDIS_URL"])

    check_worker_runs_heartbeat(tmp_path, env)


def test_beat_starts_on_the_embedded_broker_and_keeps_its_schedule_under_data_dir(tmp_path):
    env = app_env(tmp_path)
    log = tmp_path / "beat.log"

    with process(["-m", "celery", "-A", "governance", "beat", "-l", "info"], env, log) as beat:
        deadline = time.monotonic() + WORKER_WAIT_SECONDS
        while "beat: Starting..." not in log.read_text() and time.monotonic() < deadline:
            assert beat.poll() is None, f"beat exited:\n{log.read_text()}"
            time.sleep(0.2)
        time.sleep(2)  # long enough to fail on a bad schedule or an unreachable broker
        assert beat.poll() is None, f"beat exited:\n{log.read_text()}"

    text = log.read_text()
    assert "beat: Starting..." in text, text
    assert "Traceback" not in text, text
    assert list((tmp_path / "data").glob("celerybeat-schedule*")), "no schedule file under DATA_DIR"
