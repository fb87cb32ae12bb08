"""巡查日志 and 主动发现: the patrol's services are idempotent, scoped and work without JavaScript."""

import pytest
from django.urls import reverse

from appeals.models import Channel, Patrol, PatrolNote, Petition
from appeals.services import patrol as svc
from governance.errors import Conflict, DomainError, Forbidden


def test_a_patrol_with_notes_and_a_problem_each_sent_twice(tree, grid_worker_a, category):
    grid = tree["DS0C0G0"]
    patrol = svc.patrol_start(worker=grid_worker_a, grid=grid, client_key="k-start")
    assert svc.patrol_start(worker=grid_worker_a, grid=grid, client_key="k-start") == patrol
    with pytest.raises(Conflict):
        svc.patrol_start(worker=grid_worker_a, grid=grid, client_key="k-other")  # one open at a time
    note = svc.patrol_note(
        patrol_id=patrol.pk, worker=grid_worker_a, place="幸福路12号", seen="井盖松动", client_key="n1"
    )
    assert svc.patrol_note(patrol_id=patrol.pk, worker=grid_worker_a, place="幸福路12号", client_key="n1") == note
    first = svc.patrol_report(
        patrol_id=patrol.pk,
        worker=grid_worker_a,
        title="井盖缺失",
        description="幸福路12号门口井盖缺失",
        category=category,
        place="幸福路12号",
        client_key="r1",
    )
    again = svc.patrol_report(
        patrol_id=patrol.pk,
        worker=grid_worker_a,
        title="井盖缺失",
        description="幸福路12号门口井盖缺失",
        category=category,
        place="幸福路12号",
        client_key="r1",
    )
    assert first == again and first.channel == Channel.PATROL
    assert Petition.objects.filter(channel=Channel.PATROL).count() == 1
    assert PatrolNote.objects.filter(patrol=patrol).count() == 2
    svc.patrol_close(patrol_id=patrol.pk, worker=grid_worker_a, summary="完成")
    svc.patrol_close(patrol_id=patrol.pk, worker=grid_worker_a, summary="重复")
    patrol.refresh_from_db()
    assert patrol.ended_at is not None and patrol.summary == "完成"
    with pytest.raises(Conflict):
        svc.patrol_note(patrol_id=patrol.pk, worker=grid_worker_a, place="x", client_key="n2")


def test_only_ones_own_grid_and_patrol(tree, grid_worker_a, grid_worker_b, community_secretary):
    with pytest.raises(Forbidden):
        svc.patrol_start(worker=grid_worker_a, grid=tree["DS0C0G1"], client_key="a")
    assert svc.patrol_grids(community_secretary) == []
    patrol = svc.patrol_start(worker=grid_worker_a, grid=tree["DS0C0G0"], client_key="a")
    with pytest.raises(Forbidden):
        svc.patrol_note(patrol_id=patrol.pk, worker=grid_worker_b, place="x", client_key="b")
    with pytest.raises(DomainError):
        svc.patrol_note(patrol_id=patrol.pk, worker=grid_worker_a, place="  ", client_key="c")
    assert not PatrolNote.objects.exists()


def test_the_pages_without_javascript(client, tree, grid_worker_a, category):
    client.force_login(grid_worker_a)
    page = client.get(reverse("patrol:home")).content.decode()
    assert 'rel="manifest"' in page and "client_key" in page
    assert client.post(reverse("patrol:start"), {"grid": tree["DS0C0G0"].pk, "client_key": "s1"}).status_code == 302
    patrol = Patrol.objects.get()
    bad = client.post(reverse("patrol:note", args=[patrol.pk]), {"place": "", "client_key": "n1"})
    assert bad.status_code == 400 and not PatrolNote.objects.exists()
    ok = client.post(
        reverse("patrol:report", args=[patrol.pk]),
        {"title": "占道经营", "description": "路口占道经营", "category": category.pk, "client_key": "r1"},
    )
    assert ok.status_code == 302
    answer = client.post(
        reverse("patrol:report", args=[patrol.pk]),
        {"title": "占道经营", "description": "路口占道经营", "category": category.pk, "client_key": "r1"},
        HTTP_ACCEPT="application/json",
    )
    assert answer.json()["ok"] is True and Petition.objects.filter(channel=Channel.PATROL).count() == 1
    assert client.get(reverse("patrol:manifest")).json()["display"] == "standalone"
    worker = client.get(reverse("patrol:sw"))
    assert worker["Content-Type"].startswith("application/javascript") and b"patrol-v1" in worker.content


def test_the_patrol_log_is_scoped(client, tree, grid_worker_a, community_secretary, other_street_command):
    patrol = svc.patrol_start(worker=grid_worker_a, grid=tree["DS0C0G0"], client_key="a")
    client.force_login(community_secretary)
    assert str(patrol.pk) in client.get(reverse("patrol:log")).content.decode()
    assert client.get(reverse("patrol:detail", args=[patrol.pk])).status_code == 200
    client.force_login(other_street_command)
    assert reverse("patrol:detail", args=[patrol.pk]) not in client.get(reverse("patrol:log")).content.decode()
    assert client.get(reverse("patrol:detail", args=[patrol.pk])).status_code == 404


def test_staff_who_do_not_patrol_are_refused(client, community_secretary, resident):
    client.force_login(community_secretary)
    assert client.get(reverse("patrol:home")).status_code == 403
    client.force_login(resident)
    assert client.get(reverse("patrol:log")).status_code == 403
