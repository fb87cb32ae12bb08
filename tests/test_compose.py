"""docker-compose.yml and the Dockerfile only name entry points and files that exist.

No Docker engine is needed: each service's command is resolved against this code base.
"""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from celery.app.utils import find_app
from celery.bin.celery import celery as celery_cli
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = {"web", "worker", "beat", "migrate"}
# Services run from a public image with that image's own server as the command.
IMAGE_SERVICES = {"postgres": ("postgres:15", "postgres"), "redis": ("redis:7", "redis-server")}


def command_of(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else list(command)


def check_entry_point(args: list[str]) -> None:
    program, rest = args[0], args[1:]
    if program == "gunicorn":
        target = next(arg for arg in rest if not arg.startswith("-") and ":" in arg)
        module_name, attribute = target.split(":")
        module = importlib.import_module(module_name)
        assert callable(getattr(module, attribute)), target
    elif program == "celery":
        app_name = rest[rest.index("-A") + 1]
        # The same lookup `celery -A` does (module.app, module.celery, module.celery.app, ...).
        app = find_app(app_name)
        subcommand = next(arg for arg in rest[rest.index("-A") + 2 :] if not arg.startswith("-"))

        assert app.main == "governance"
        assert subcommand in celery_cli.commands, f"celery has no {subcommand!r} command"
    elif program == "python" and rest[:1] == ["manage.py"]:
        assert (ROOT / "manage.py").exists()
        assert rest[1] in get_commands(), f"no management command {rest[1]!r}"
    else:
        pytest.fail(f"unknown entry point {args}")


def test_it_runs_web_worker_and_beat_from_our_image_with_postgres_and_redis():
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(SERVICES)
    assert set(SERVICES) <= APP_SERVICES | set(IMAGE_SERVICES)


@pytest.mark.parametrize("name", sorted(APP_SERVICES & set(SERVICES)))
def test_each_app_service_runs_a_real_entry_point(name):
    service = SERVICES[name]

    assert service.get("build") == "."
    check_entry_point(command_of(service))


def test_web_runs_gunicorn_and_worker_and_beat_run_celery():
    assert command_of(SERVICES["web"])[:2] == ["gunicorn", "governance.wsgi:application"]
    assert command_of(SERVICES["worker"])[:4] == ["celery", "-A", "governance", "worker"]
    assert command_of(SERVICES["beat"])[:4] == ["celery", "-A", "governance", "beat"]


@pytest.mark.parametrize("name", sorted(IMAGE_SERVICES))
def test_each_backing_service_is_a_known_image(name):
    image, program = IMAGE_SERVICES[name]
    service = SERVICES[name]

    assert service["image"] == image
    assert "build" not in service
    command = command_of(service)
    assert not command or command[0] == program
    assert service["healthcheck"]["test"]


def test_postgres_caches_more_than_its_default():
    settings = dict(arg.split("=", 1) for arg in command_of(SERVICES["postgres"]) if "=" in arg)
    assert settings["shared_buffers"] == "${POSTGRES_SHARED_BUFFERS:-1GB}"
    assert settings["effective_cache_size"].startswith("${POSTGRES_EFFECTIVE_CACHE_SIZE:-")


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_app_services_run_in_production_mode_and_wait_for_healthy_backends(name):
    service = SERVICES[name]
    env = service["environment"]

    assert env["DEBUG"] == "0"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY"), "SECRET_KEY must come from the deployer's environment"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["REDIS_URL"].startswith("redis://")
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"


def test_the_dockerfile_copies_and_runs_files_that_exist():
    text = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    for sources in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for source in sources.split():
            assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    assert re.search(r"^USER (?!root)\w+$", text, re.M), "the image must not run as root"
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd, "the Dockerfile needs a CMD"
    check_entry_point(yaml.safe_load(cmd.group(1)))
    assert "collectstatic" in text
