import pytest

from appeals.lifecycle import TRANSITIONS, InvalidTransition, allowed_actions, check_move
from appeals.models import Status


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
