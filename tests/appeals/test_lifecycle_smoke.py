from appeals.models import EventType, Status, Tier
from appeals.services import (
    assignment_reply,
    assignment_report_in,
    petition_accept,
    petition_escalate,
    petition_handle,
    petition_rate,
    petition_reply,
    petition_whistle,
)


def test_it_runs_a_petition_from_submission_to_a_satisfied_close(submit, grid_worker_a, tree):
    petition = submit()
    assert petition.status == Status.ASSIGNED
    assert petition.handler_area == tree["DS0C0G0"]
    assert petition.microgrid == tree["DS0C0G0M0"]
    assert petition.deadline_at is not None and petition.remind_at < petition.deadline_at
    petition_accept(petition_id=petition.pk, actor=grid_worker_a)
    petition_handle(petition_id=petition.pk, actor=grid_worker_a)
    petition_reply(petition_id=petition.pk, actor=grid_worker_a, reply="已联系环卫清运。")
    petition = petition_rate(petition_id=petition.pk, rating="satisfied", contact_phone="13800138000")
    assert petition.status == Status.CLOSED
    types = list(petition.events.values_list("type", flat=True))
    assert types == [
        EventType.SUBMITTED,
        EventType.ROUTED,
        EventType.ACCEPTED,
        EventType.HANDLING,
        EventType.RESOLVED,
        EventType.RATED,
    ]


def test_it_escalates_to_the_street_and_dispatches_to_departments(
    submit, grid_worker_a, community_secretary, street_command, department_handler, department
):
    petition = submit()
    petition_escalate(petition_id=petition.pk, actor=grid_worker_a, note="需要社区协调")
    petition_escalate(petition_id=petition.pk, actor=community_secretary, note="需要街道吹哨")
    petition.refresh_from_db()
    assert petition.tier == Tier.STREET
    petition_whistle(petition_id=petition.pk, actor=street_command, lead_department_id=department.pk)
    assignment_report_in(petition_id=petition.pk, department_id=department.pk, actor=department_handler)
    assignment_reply(petition_id=petition.pk, department_id=department.pk, actor=department_handler, reply="已处理")
    petition.refresh_from_db()
    assert petition.status == Status.RESOLVED
