import pytest
from django.test import override_settings

from appeals.models import CallbackResult, EventType, Petition, Rating, Status
from appeals.services import (
    petition_accept,
    petition_callback,
    petition_close,
    petition_merge,
    petition_rate,
    petition_reopen,
    petition_reply,
    petitions_close_unrated,
)
from governance.errors import DomainError, Forbidden

PHONE = "13800138000"


@pytest.fixture
def resolved(submit, grid_worker_a):
    def _resolved(**overrides):
        petition = submit(**overrides)
        petition_accept(petition_id=petition.pk, actor=grid_worker_a)
        return petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="已处理")

    return _resolved


def test_only_the_submitter_rates(resolved, grid_worker_a):
    petition = resolved()
    with pytest.raises(Forbidden):
        petition_rate(petition_id=petition.pk, rating=Rating.SATISFIED, contact_phone="13900000000")
    with pytest.raises(Forbidden):
        petition_rate(petition_id=petition.pk, rating=Rating.SATISFIED, actor=grid_worker_a)


def test_an_unsatisfied_resident_reopens_a_bounded_number_of_times(resolved, grid_worker_a, tree):
    petition = resolved()
    with override_settings(PETITION_MAX_REOPENS=1):
        petition = petition_rate(petition_id=petition.pk, rating=Rating.UNSATISFIED, contact_phone=PHONE)
        assert petition.status == Status.RESOLVED
        petition = petition_reopen(petition_id=petition.pk, contact_phone=PHONE, reason="污水又冒出来了")
        assert (petition.status, petition.handler_area, petition.reopen_count) == (Status.ASSIGNED, tree["DS0C0G0"], 1)
        petition_accept(petition_id=petition.pk, actor=grid_worker_a)
        petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="再次处理")
        with pytest.raises(DomainError) as caught:
            petition_reopen(petition_id=petition.pk, contact_phone=PHONE, reason="还是不行")
        assert caught.value.code == "reopen_limit"


def test_a_satisfied_rating_closes_and_cannot_be_reopened(resolved):
    petition = petition_rate(petition_id=resolved().pk, rating=Rating.SATISFIED, contact_phone=PHONE)
    assert petition.status == Status.CLOSED and petition.closed_at
    with pytest.raises(DomainError):
        petition_reopen(petition_id=petition.pk, contact_phone=PHONE, reason="x")


def test_a_callback_records_the_rating_of_an_unrated_petition(resolved, community_secretary, resident):
    petition = resolved()
    with pytest.raises(Forbidden):
        petition_callback(petition_id=petition.pk, actor=resident, result=CallbackResult.SATISFIED)
    petition_callback(petition_id=petition.pk, actor=community_secretary, result=CallbackResult.UNREACHABLE)
    petition_callback(petition_id=petition.pk, actor=community_secretary, result=CallbackResult.BASIC, note="电话回访")
    petition.refresh_from_db()
    assert (petition.status, petition.rating) == (Status.CLOSED, Rating.BASIC)
    assert petition.callbacks.count() == 2


def test_unrated_resolutions_close_after_the_window(resolved):
    from datetime import timedelta

    import time_machine

    petition = resolved()
    with time_machine.travel(petition.resolved_at + timedelta(days=8), tick=False):
        assert petitions_close_unrated() == 1
    petition.refresh_from_db()
    assert petition.status == Status.CLOSED


def test_staff_close_a_resolved_petition(resolved, community_secretary):
    petition = petition_close(petition_id=resolved().pk, actor=community_secretary, note="已回访")
    assert petition.status == Status.CLOSED


def test_merging_folds_a_duplicate_into_its_master(submit, community_secretary, grid_worker_b):
    master, duplicate, third = submit(), submit(), submit()
    with pytest.raises(Forbidden):
        petition_merge(petition_id=duplicate.pk, into_id=master.pk, actor=grid_worker_b)
    petition_merge(petition_id=third.pk, into_id=duplicate.pk, actor=community_secretary)
    petition = petition_merge(petition_id=duplicate.pk, into_id=master.pk, actor=community_secretary)
    assert petition.status == Status.MERGED and petition.deadline_at is None
    master.refresh_from_db()
    assert master.repeat_count >= 2
    assert Petition.objects.get(pk=third.pk).merged_into_id == master.pk
    assert master.events.filter(type=EventType.ABSORBED).count() == 1
    with pytest.raises(DomainError):
        petition_merge(petition_id=master.pk, into_id=master.pk, actor=community_secretary)


def test_repeat_counts_always_equal_the_rows_pointing_at_them_after_merges(submit, community_secretary):
    root, linked = submit(), submit()
    other_root = submit((120.015, 36.005))  # grid DS0C0G1, ~900 m away: not a repeat
    assert linked.repeat_of_id == root.pk
    petition_merge(petition_id=linked.pk, into_id=root.pk, actor=community_secretary)
    # A root with its own cluster folds into another master: the cluster moves with it.
    petition_merge(petition_id=root.pk, into_id=other_root.pk, actor=community_secretary)
    for petition in Petition.objects.all():
        assert petition.repeat_count == Petition.objects.filter(repeat_of=petition).count(), petition.tracking_no
    other_root.refresh_from_db()
    assert other_root.repeat_count == 2
