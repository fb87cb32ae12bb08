import pytest

from appeals.models import AssignmentStatus, HandlingMode, Status
from appeals.services import (
    assignment_reply,
    assignment_report_in,
    petition_escalate,
    petition_return,
    petition_whistle,
)
from governance.errors import DomainError, Forbidden
from governance.models import Role
from tests.factories import make_department, make_user


@pytest.fixture
def at_street(submit, administrator):
    petition = submit()
    petition_escalate(petition_id=petition.pk, actor=administrator, note="上报")
    petition_escalate(petition_id=petition.pk, actor=administrator, note="上报")
    return petition


def test_a_joint_case_resolves_only_when_assistants_and_then_the_lead_reply(
    at_street, street_command, department, department_handler
):
    helper_dept = make_department("ZJ", "区住房和城乡建设局")
    helper = make_user("zj", role=Role.DEPARTMENT_HANDLER, department=helper_dept)
    petition = petition_whistle(
        petition_id=at_street.pk,
        actor=street_command,
        lead_department_id=department.pk,
        assisting_department_ids=[helper_dept.pk],
    )
    assert petition.status == Status.DISPATCHED and petition.handling_mode == HandlingMode.JOINT
    with pytest.raises(DomainError):
        assignment_reply(petition_id=petition.pk, department_id=department.pk, actor=department_handler, reply="好")
    assignment_report_in(petition_id=petition.pk, department_id=department.pk, actor=department_handler)
    with pytest.raises(DomainError) as caught:
        assignment_reply(petition_id=petition.pk, department_id=department.pk, actor=department_handler, reply="好")
    assert caught.value.code == "assistants_pending"
    with pytest.raises(Forbidden):
        assignment_report_in(petition_id=petition.pk, department_id=helper_dept.pk, actor=department_handler)
    assignment_report_in(petition_id=petition.pk, department_id=helper_dept.pk, actor=helper)
    assignment_reply(petition_id=petition.pk, department_id=helper_dept.pk, actor=helper, reply="已配合")
    assignment_reply(petition_id=petition.pk, department_id=department.pk, actor=department_handler, reply="已处理完毕")
    petition.refresh_from_db()
    assert petition.status == Status.RESOLVED and petition.reply == "已处理完毕"


def test_a_department_returns_a_wrong_dispatch_to_the_street(
    at_street, street_command, department, department_handler, tree
):
    petition_whistle(petition_id=at_street.pk, actor=street_command, lead_department_id=department.pk)
    petition = petition_return(
        petition_id=at_street.pk, actor=department_handler, reason="不属于城管职责", department_id=department.pk
    )
    assert petition.status == Status.RETURNED and petition.handler_area == tree["DS0"]
    assert petition.handler_department is None
    assert set(petition.assignments.values_list("status", flat=True)) == {AssignmentStatus.CANCELLED}


def test_a_community_worker_cannot_whistle(at_street, community_secretary, department):
    with pytest.raises(Forbidden):
        petition_whistle(petition_id=at_street.pk, actor=community_secretary, lead_department_id=department.pk)
