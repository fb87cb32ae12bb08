"""Phones, names and ID numbers: one normal form and one validity rule for every way they reach us.

Intake, the resident form and its replay check, public tracking, the 12345 import and Open311 all
store and compare the normal form, so "138-0013-8000", "+86 138 0013 8000" and "１３８００１３８０００"
are the same resident.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

# Mainland mobiles: 11 digits starting 13-19.
MOBILE_RE = re.compile(r"1[3-9]\d{9}")
# Landlines in normal form: area code (010, 02x: three digits; others four), dash, 7-8 digits.
LANDLINE_RE = re.compile(r"0(?:10|2\d|[3-9]\d{2})-\d{7,8}")
# A local number without area code (some hotline rows carry only that).
LOCAL_RE = re.compile(r"[2-9]\d{6,7}")
_NOISE = re.compile(r"[\s.·()\[\]（）【】]")
_COUNTRY = re.compile(r"^(?:\+|00)?86")


def _area_code_length(digits: str) -> int:
    """How many leading digits of a landline written without separator are its area code."""
    return 3 if digits.startswith(("010", "02")) else 4


def normalize_phone(value: Any) -> str:
    """The number in normal form: a mobile as 11 digits, a landline as "0532-88886666".

    Full-width characters, spaces, dots, brackets, dashes and the +86 / 0086 country code are
    ignored. Text that is no phone number comes back trimmed and unchanged otherwise, so that
    `is_valid_phone` refuses it.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet keeps a mobile as a number
    text = unicodedata.normalize("NFKC", str(value)).strip()
    compact = _NOISE.sub("", text).replace("—", "-").replace("－", "-")
    if not compact:
        return ""
    international = compact.startswith(("+", "00"))
    if international and not _COUNTRY.match(compact):
        return text  # another country's number: kept for staff, never valid for our SMS
    digits = compact.replace("-", "")
    if not digits.isdigit() and not (digits.startswith("+") and digits[1:].isdigit()):
        return text
    digits = digits.lstrip("+")
    national = _COUNTRY.sub("", digits) if (international or len(digits) == 13) else digits
    if MOBILE_RE.fullmatch(national):
        return national
    if international and not national.startswith("0"):
        national = "0" + national  # +86 532 88886666: the trunk 0 is dropped abroad
    if national.startswith("0") and 10 <= len(national) <= 12:
        split = _area_code_length(national)
        candidate = f"{national[:split]}-{national[split:]}"
        if LANDLINE_RE.fullmatch(candidate):
            return candidate
    if LOCAL_RE.fullmatch(national):
        return national
    return text


def is_valid_phone(value: str) -> bool:
    """A mobile, a landline with area code or a local number, in normal form."""
    return bool(MOBILE_RE.fullmatch(value) or LANDLINE_RE.fullmatch(value) or LOCAL_RE.fullmatch(value))


def is_mobile(value: str) -> bool:
    return bool(MOBILE_RE.fullmatch(value))


# --- Names -------------------------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def name_in_order(family: str, given: str) -> str:
    """A name in Chinese order, family name first: 尹涛芬 (no space between Chinese parts)."""
    family, given = (family or "").strip(), (given or "").strip()
    separator = "" if _CJK.search(family + given) else " "
    return separator.join(part for part in (family, given) if part)


def person_name(user: Any) -> str:
    """How a user's name is shown everywhere: 姓 then 名, else the username."""
    if user is None:
        return ""
    name = name_in_order(getattr(user, "last_name", ""), getattr(user, "first_name", ""))
    return name or user.get_username()


# --- ID numbers (居民身份证号码, GB 11643-1999) -------------------------------------------------------

# The first two digits: the province-level division (GB/T 2260).
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
        "65", "71", "81", "82", "83", "91",
    }
)  # fmt: skip
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID18_RE = re.compile(r"\d{17}[\dX]")
_ID15_RE = re.compile(r"\d{15}")
ID_EARLIEST_BIRTH = date(1890, 1, 1)


class IdNumberError(ValueError):
    """Why an ID number is refused; `message` is for the person who typed it (translated)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class IdNumber:
    """A valid 18-character ID number and what it says about its holder."""

    number: str
    region: str
    birth_date: date
    gender: str  # "male" / "female": the 17th digit, odd for men

    def age(self, today: date) -> int:
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def normalize_id_number(value: Any) -> str:
    """Upper case, no spaces or dashes, full-width folded; a 15-digit old number is left as typed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip().upper()
    return re.sub(r"[\s\-]", "", text)


def id_check_character(first17: str) -> str:
    """The check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def parse_id_number(value: Any, *, today: date | None = None) -> IdNumber:
    """The ID number checked (length, region, birth date, check character) and read; or IdNumberError.

    A 15-digit first-generation number is converted to 18 characters (century 19, check computed).
    """
    from django.utils.translation import gettext as _

    number = normalize_id_number(value)
    if _ID15_RE.fullmatch(number):
        first17 = number[:6] + "19" + number[6:]
        number = first17 + id_check_character(first17)
    if not _ID18_RE.fullmatch(number):
        raise IdNumberError(_("An ID number has 18 characters: 17 digits and a digit or X."), "length")
    if number[:2] not in PROVINCE_CODES:
        raise IdNumberError(_("The ID number's region code %(code)s does not exist.") % {"code": number[:6]}, "region")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError(_("The ID number holds no valid birth date."), "birth_date") from None
    if born < ID_EARLIEST_BIRTH or born > (today or date.today()):
        raise IdNumberError(_("The ID number's birth date is impossible."), "birth_date")
    if id_check_character(number[:17]) != number[17]:
        raise IdNumberError(_("The ID number's check character is wrong: please check every digit."), "check")
    return IdNumber(
        number=number, region=number[:6], birth_date=born, gender="male" if int(number[16]) % 2 else "female"
    )


def is_valid_id_number(value: Any) -> bool:
    try:
        parse_id_number(value)
    except IdNumberError:
        return False
    return True
