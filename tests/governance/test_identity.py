"""One phone normaliser for every way a number reaches us."""

from __future__ import annotations

import pytest

from governance.identity import is_valid_phone, normalize_phone


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("１３８－００１３－８０００", "13800138000"),
        (13800138000.0, "13800138000"),
        ("0532-88886666", "0532-88886666"),
        ("053288886666", "0532-88886666"),
        ("(0532) 8888 6666", "0532-88886666"),
        ("（0532）88886666", "0532-88886666"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("021 6543 2100", "021-65432100"),
        ("+86 532 88886666", "0532-88886666"),
        ("88886666", "88886666"),
        ("", ""),
        (None, ""),
    ],
)
def test_it_gives_every_spelling_of_a_number_one_normal_form(value, expected):
    assert normalize_phone(value) == expected
    assert expected == "" or is_valid_phone(normalize_phone(value))


@pytest.mark.parametrize(
    "value", ["12345", "1380013800", "23800138000", "call me", "138001380001", "0532-123", "+1 415 555 0100"]
)
def test_it_refuses_what_is_no_phone_number(value):
    assert not is_valid_phone(normalize_phone(value))


def test_there_is_one_normaliser():
    """The other modules ask governance.identity; none keeps its own phone cleaning."""
    import appeals.hotline
    import appeals.services.intake
    import appeals.views

    assert not hasattr(appeals.services.intake, "clean_phone")
    assert not hasattr(appeals.services.intake, "PHONE_RE")
    assert not hasattr(appeals.hotline, "clean_phone")
    assert not hasattr(appeals.views, "_normalized_phone")
