from pathlib import Path

import pytest

from appeals.lifecycle import (
    TRANSITIONS,
    InvalidTransition,
    allowed_actions,
    check_move,
    event_status_pairs,
    mermaid_diagram,
)
from appeals.models import EventType, Status


def test_every_move_names_known_states():
    for action, move in TRANSITIONS.items():
        assert move.sources <= set(Status.values), action
        assert move.target is None or move.target in Status.values, action


def test_closed_and_merged_petitions_allow_no_moves():
    assert allowed_actions(Status.CLOSED) == []
    assert allowed_actions(Status.MERGED) == []


def test_it_refuses_an_invalid_move_naming_the_state_and_the_allowed_moves():
    with pytest.raises(InvalidTransition) as caught:
        check_move(Status.RESOLVED, "accept")
    error = caught.value
    assert error.code == "invalid_transition"
    assert error.extra["status"] == Status.RESOLVED
    assert set(error.extra["allowed"]) == {"rate", "reopen", "callback", "close"}
    assert str(Status.RESOLVED.label) in error.message


def test_system_moves_and_outcome_variants_are_never_offered():
    offered = {action for status in Status.values for action in allowed_actions(status)}
    assert not offered & {"route", "auto_escalate", "auto_supervise", "remind", "absorb", "link_repeat"}
    assert not offered & {"rate_close", "callback_close", "lead_reply"}
    assert {"rate", "callback", "department_reply"} <= offered


def test_moves_that_change_the_status_name_their_real_target():
    assert TRANSITIONS["auto_escalate"].target == Status.ASSIGNED
    assert TRANSITIONS["rate_close"].target == TRANSITIONS["callback_close"].target == Status.CLOSED
    assert TRANSITIONS["rate"].target is None and TRANSITIONS["callback"].target is None
    assert TRANSITIONS["route"].target == Status.ASSIGNED and TRANSITIONS["route_to_intake"].target == Status.INTAKE


def test_every_move_writes_an_event_and_the_constraint_allows_exactly_its_pairs():
    pairs = event_status_pairs()
    for action, move in TRANSITIONS.items():
        assert move.events, action
        for event in move.events:
            assert {(s, move.target_from(s)) for s in move.sources} <= pairs[event], action
    assert (Status.RESOLVED, Status.CLOSED) in pairs[EventType.RATED]
    assert (Status.RESOLVED, Status.ASSIGNED) not in pairs[EventType.RATED]
    assert (Status.ACCEPTED, Status.ASSIGNED) in pairs[EventType.AUTO_ESCALATED]
    assert (Status.DISPATCHED, Status.ASSIGNED) not in pairs[EventType.AUTO_ESCALATED]


def test_the_diagram_in_the_docs_is_the_one_the_table_draws():
    text = (Path(__file__).resolve().parents[2] / "docs" / "petitions.md").read_text()
    start = text.index("```mermaid\n") + len("```mermaid\n")
    assert text[start : text.index("```", start)] == mermaid_diagram()


def test_the_diagram_draws_each_status_changing_move():
    diagram = mermaid_diagram()
    assert "    resolved --> closed: rate_close, callback_close, close" in diagram
    assert "    processing --> assigned: transfer, escalate, auto_escalate" in diagram
    assert "note_progress" not in diagram  # keeps the status
