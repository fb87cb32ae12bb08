"""Chinese by default: actors, notes, names in Chinese order, model names in the admin."""

from __future__ import annotations

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from appeals.models import Channel, PetitionEvent
from appeals.services import petitions_escalate_overdue
from governance.identity import name_in_order, person_name
from governance.models import Role
from tests.factories import make_user


@pytest.fixture(autouse=True)
def _chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_the_timeline_names_actors_in_chinese(client, submit, grid_worker_a):
    petition = submit(actor_label="resident")
    with time_machine.travel(petition.deadline_at, tick=False):
        petitions_escalate_overdue()
    hotline = submit(channel=Channel.HOTLINE, actor_label="12345", title="热线来电")
    client.force_login(grid_worker_a)

    body = client.get(reverse("appeals:detail", args=[petition.tracking_no])).content.decode()
    assert '<span class="pp-person">居民</span>' in body and '<span class="pp-person">系统</span>' in body
    assert "已超过办理期限。" in body
    assert ">resident<" not in body and ">system<" not in body and "Deadline passed." not in body
    body = client.get(reverse("appeals:detail", args=[hotline.tracking_no])).content.decode()
    assert '<span class="pp-person">12345热线</span>' in body


def test_the_api_names_actors_in_chinese(submit, grid_worker_a):
    from rest_framework.test import APIClient

    petition = submit(actor_label="resident")
    api = APIClient()
    api.force_authenticate(grid_worker_a)
    with translation.override("zh-hans"):
        body = api.get(f"/api/v1/petitions/{petition.tracking_no}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["timeline"][0]["actor"] == "居民"


def test_names_are_shown_family_name_first(client, tree):
    user = make_user("yin", role=Role.GRID_WORKER, area=tree["DS0C0G0"], first_name="涛芬", last_name="尹")
    client.force_login(user)

    body = client.get(reverse("home")).content.decode()

    assert "尹涛芬" in body and "涛芬 尹" not in body
    assert person_name(user) == "尹涛芬"
    assert name_in_order("Smith", "John") == "Smith John"
    assert person_name(make_user("nobody")) == "nobody"


def test_staff_names_in_the_timeline_are_in_chinese_order(client, submit, tree):
    from appeals.services import petition_accept

    worker = make_user("yin", role=Role.GRID_WORKER, area=tree["DS0C0G0"], first_name="涛芬", last_name="尹")
    petition = submit()
    petition_accept(petition_id=petition.pk, actor=worker)
    client.force_login(worker)

    body = client.get(reverse("appeals:detail", args=[petition.tracking_no])).content.decode()

    assert '<span class="pp-person">尹涛芬</span>' in body


def test_every_model_and_app_of_ours_has_a_chinese_name():
    with translation.override("zh-hans"):
        for app in apps.get_app_configs():
            if app.name.split(".")[0] not in {"appeals", "governance", "grids", "residents", "analytics"}:
                continue
            assert not str(app.verbose_name).isascii(), app.label
            for model in app.get_models():
                for name in (model._meta.verbose_name, model._meta.verbose_name_plural):
                    assert not str(name).isascii(), f"{app.label}.{model.__name__}: {name}"


def test_events_keep_codes_and_translate_them_for_display():
    event = PetitionEvent(actor_label="system")
    with translation.override("zh-hans"):
        assert event.actor_label_display == "系统"
    assert PetitionEvent(actor_label="市民通").actor_label_display == "市民通"
