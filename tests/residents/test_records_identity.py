"""ID numbers (GB 11643): region, birth date, check character and X; age and gender derived."""

from __future__ import annotations

from datetime import date

import pytest

from governance.identity import IdNumberError, id_check_character, is_valid_id_number, parse_id_number


def test_a_valid_number_gives_birth_date_gender_and_age():
    parsed = parse_id_number("11010519491231002X")
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "female"  # 17th digit 2: even
    assert parsed.age(date(2026, 12, 30)) == 76
    assert parsed.age(date(2026, 12, 31)) == 77


def test_the_x_check_character_is_accepted_in_lower_case_full_width_and_spaced():
    assert parse_id_number("110105 19491231 002x").number == "11010519491231002X"
    assert parse_id_number("１１０１０５１９４９１２３１００２Ｘ").number == "11010519491231002X"


def test_a_fifteen_digit_number_is_converted():
    parsed = parse_id_number("370202800101123")
    assert parsed.number == "370202198001011232"
    assert parsed.gender == "male"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010519491231002", "length"),
        ("1101051949123100211", "length"),
        ("11010519491231002Y", "length"),
        ("99010519491231002X", "region"),  # no province 99
        ("110105194913310021", "birth_date"),  # month 13
        ("110105194902300021", "birth_date"),  # 30 February
        ("110105188001010021", "birth_date"),  # before 1890
        ("110105209901010021", "birth_date"),  # in the future
        ("110105194912310021", "check"),  # wrong check character
    ],
)
def test_invalid_numbers_are_refused_with_their_reason(number, code):
    if code in {"birth_date"} and len(number) == 18 and number[6:8] in {"18", "20"}:
        number = number[:17] + id_check_character(number[:17])  # only the date is wrong
    with pytest.raises(IdNumberError) as error:
        parse_id_number(number, today=date(2026, 12, 2))
    assert error.value.code == code
    assert error.value.message
    assert not is_valid_id_number(number)


def test_the_message_is_chinese_in_the_chinese_locale():
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(IdNumberError) as error:
        parse_id_number("110105194912310021")
    assert "校验" in error.value.message
