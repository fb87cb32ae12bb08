"""Settings load with no environment, pick the services they are given, and refuse bad values."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from governance.env import env_bool, env_float, env_int, env_list, env_str, env_url

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "broker": settings.CELERY_BROKER_URL, "cache": settings.CACHES["default"]["BACKEND"],
    "debug": settings.DEBUG, "data_dir": str(settings.DATA_DIR),
}))
"""


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only what a Python process needs, plus the variables under test."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DATA_DIR": str(tmp_path / "data"),
    }
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def load_settings(env: dict[str, str]) -> dict:
    result = run_python(PRINT_SETTINGS, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_runs_on_sqlite_and_the_filesystem_broker_with_no_environment(tmp_path):
    loaded = load_settings(clean_env(tmp_path))

    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(tmp_path / "data" / "governance.sqlite3")
    assert loaded["broker"] == "filesystem://localhost//"
    assert loaded["cache"].endswith("LocMemCache")
    assert loaded["debug"] is True
    assert (tmp_path / "data" / "broker" / "queue").is_dir()


def test_it_picks_postgresql_and_redis_from_urls(tmp_path):
    loaded = load_settings(
        clean_env(
            tmp_path,
            DATABASE_URL="postgres://gov:secret@db.internal:5432/governance",
            REDIS_URL="redis://cache.internal:6379/2",
        )
    )

    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["name"] == "governance"
    assert loaded["host"] == "db.internal"
    assert loaded["broker"] == "redis://cache.internal:6379/2"
    assert loaded["cache"].endswith("RedisCache")
    assert not (tmp_path / "data" / "broker").exists()


def test_it_loads_in_production_mode_with_every_required_value(tmp_path):
    loaded = load_settings(clean_env(tmp_path, DEBUG="0", SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="gov.example.org"))

    assert loaded["debug"] is False


@pytest.mark.parametrize(
    ("variable", "env"),
    [
        ("DEBUG", {"DEBUG": "maybe"}),
        ("DB_CONN_MAX_AGE", {"DB_CONN_MAX_AGE": "abc"}),
        ("DB_CONN_MAX_AGE", {"DB_CONN_MAX_AGE": "-1"}),
        ("DATABASE_URL", {"DATABASE_URL": "mysql://root@localhost/governance"}),
        ("REDIS_URL", {"REDIS_URL": "http://127.0.0.1:6379/0"}),
        ("BROKER_TIMEOUT", {"BROKER_TIMEOUT": "soon"}),
        ("CELERY_TASK_ALWAYS_EAGER", {"CELERY_TASK_ALWAYS_EAGER": "perhaps"}),
        ("SPATIAL_INDEX_CHECK_SECONDS", {"SPATIAL_INDEX_CHECK_SECONDS": "-5"}),
        ("SECRET_KEY", {"DEBUG": "0", "ALLOWED_HOSTS": "gov.example.org"}),
        ("SECRET_KEY", {"DEBUG": "0", "SECRET_KEY": "short", "ALLOWED_HOSTS": "gov.example.org"}),
        ("SECRET_KEY", {"DEBUG": "0", "SECRET_KEY": "a" * 60, "ALLOWED_HOSTS": "gov.example.org"}),
        ("ALLOWED_HOSTS", {"DEBUG": "0", "SECRET_KEY": GOOD_SECRET}),
        ("ALLOWED_HOSTS", {"DEBUG": "0", "SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "*"}),
        (
            "SECURE_HSTS_SECONDS",
            {"DEBUG": "0", "SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "a.org", "SECURE_HSTS_SECONDS": "x"},
        ),
        ("LOG_LEVEL", {"LOG_LEVEL": "loud"}),
        ("GC_THRESHOLDS", {"GC_THRESHOLDS": "700,10"}),
        ("GC_THRESHOLDS", {"GC_THRESHOLDS": "700,ten,10"}),
        ("WORKING_HOURS", {"WORKING_HOURS": "9-5"}),
        ("PETITION_MAX_REOPENS", {"PETITION_MAX_REOPENS": "many"}),
        ("REPEAT_WINDOW_DAYS", {"REPEAT_WINDOW_DAYS": "0"}),
        ("HOTLINE_COLUMNS", {"HOTLINE_COLUMNS": "not json"}),
        ("CACHE_TIMEOUT", {"CACHE_TIMEOUT": "0"}),
        ("CACHE_RETRY_AFTER", {"CACHE_RETRY_AFTER": "soon"}),
        ("EARLIEST_DATE", {"EARLIEST_DATE": "yesterday"}),
    ],
)
def test_it_refuses_to_start_on_a_bad_value_and_names_the_variable(tmp_path, variable, env):
    result = run_python("import django; django.setup()", clean_env(tmp_path, **env))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def variables_read_by_settings() -> set[str]:
    text = (ROOT / "governance" / "settings.py").read_text()
    return set(re.findall(r'env_(?:str|bool|int|float|list|url)\(\s*"([A-Z0-9_]+)"', text))


def test_every_variable_the_settings_read_is_documented():
    variables = variables_read_by_settings()
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "LOG_LEVEL"} <= variables
    example = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    readme = (ROOT / "README.md").read_text()
    configuration = (ROOT / "docs" / "configuration.md").read_text()

    assert variables - example == set(), ".env.example misses these"
    assert {v for v in variables if f"`{v}`" not in readme} == set(), "README's table misses these"
    assert {v for v in variables if f"`{v}`" not in configuration} == set(), "docs/configuration.md misses these"


# --- governance.env helpers --------------------------------------------------------------------


def test_env_bool_reads_the_usual_spellings_and_falls_back_to_the_default():
    assert env_bool("X", False, environ={"X": " Yes "}) is True
    assert env_bool("X", True, environ={"X": "off"}) is False
    assert env_bool("X", True, environ={"X": ""}) is False
    assert env_bool("X", True, environ={}) is True


def test_env_bool_rejects_anything_else():
    with pytest.raises(ImproperlyConfigured, match="X='maybe' is not a boolean"):
        env_bool("X", True, environ={"X": "maybe"})


def test_env_int_parses_and_checks_its_bounds():
    assert env_int("N", 7, environ={}) == 7
    assert env_int("N", 7, environ={"N": ""}) == 7
    assert env_int("N", 7, environ={"N": " 42 "}) == 42
    with pytest.raises(ImproperlyConfigured, match="N='abc' is not an integer"):
        env_int("N", 7, environ={"N": "abc"})
    with pytest.raises(ImproperlyConfigured, match="below the minimum 0"):
        env_int("N", 7, minimum=0, environ={"N": "-1"})
    with pytest.raises(ImproperlyConfigured, match="above the maximum 10"):
        env_int("N", 7, maximum=10, environ={"N": "11"})


def test_env_float_parses_and_checks_its_minimum():
    assert env_float("F", 2.0, environ={}) == 2.0
    assert env_float("F", 2.0, environ={"F": "0.5"}) == 0.5
    with pytest.raises(ImproperlyConfigured, match="F='fast' is not a number"):
        env_float("F", 2.0, environ={"F": "fast"})
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_float("F", 2.0, minimum=0.1, environ={"F": "0"})


def test_env_str_and_env_list_strip_whitespace():
    assert env_str("S", "dflt", environ={}) == "dflt"
    assert env_str("S", "dflt", environ={"S": "  value "}) == "value"
    assert env_list("L", ["a"], environ={}) == ["a"]
    assert env_list("L", ["a"], environ={"L": " x.org, ,y.org "}) == ["x.org", "y.org"]
    assert env_list("L", ["a"], environ={"L": ""}) == []


def test_env_url_accepts_listed_schemes_only():
    schemes = ("postgres", "postgresql")
    assert env_url("U", schemes=schemes, environ={}) == ""
    assert env_url("U", schemes=schemes, environ={"U": "postgres://u@h/db"}) == "postgres://u@h/db"
    with pytest.raises(ImproperlyConfigured, match="U must be a URL starting with one of postgres://"):
        env_url("U", schemes=schemes, environ={"U": "mysql://u@h/db"})
    with pytest.raises(ImproperlyConfigured, match="names no host"):
        env_url("U", schemes=schemes, environ={"U": "postgres://"})
