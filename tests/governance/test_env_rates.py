"""Rate settings ("5/min,50/h") are checked at start-up like every other variable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from governance.env import env_rates, parse_rates


def test_it_parses_rate_lists():
    assert parse_rates("5/min,50/h") == ((5, 60), (50, 3600))
    assert parse_rates("1/s, 1000/d") == ((1, 1), (1000, 86400))
    assert parse_rates("3/10min") == ((3, 600),)


@pytest.mark.parametrize("value", ["5", "5/week", "0/min", "x/min", "5/min,", "-1/h"])
def test_it_refuses_a_bad_rate_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match="RATE_X"):
        env_rates("RATE_X", "1/min", environ={"RATE_X": value})


def test_an_unset_or_empty_rate_is_the_default():
    assert env_rates("RATE_X", "2/min", environ={}) == "2/min"
    assert env_rates("RATE_X", "2/min", environ={"RATE_X": ""}) == "2/min"
