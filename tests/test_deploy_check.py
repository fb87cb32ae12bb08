"""`manage.py check --deploy` passes with a production environment, and is a real check."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def deploy_check(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),  # 64 random characters
        "ALLOWED_HOSTS": "example.org",
        # Only parsed: the deploy checks open no connection.
        "DATABASE_URL": "postgres://governance:secret@127.0.0.1:5432/governance",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DATA_DIR": str(tmp_path / "data"),
    }
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_it_passes_the_deploy_check_in_production(tmp_path):
    result = deploy_check(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_check_fails_with_debug_on(tmp_path):
    result = deploy_check(tmp_path, DEBUG="1")

    assert result.returncode != 0
    assert "security.W018" in result.stderr
