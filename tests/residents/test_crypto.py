"""Personal data at rest: the raw columns never hold the number, blind indexes find it, keys rotate."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from governance import crypto
from residents.models import Resident
from residents.services import id_number_lookup_hash, phone_lookup_hash
from tests.residents import records_fixtures
from tests.residents.records_fixtures import id_number

records = records_fixtures.records


def raw_columns(resident_id: int) -> tuple[str, str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, phone, id_number_hash, phone_hash FROM residents_resident WHERE id = %s", [resident_id]
        )
        return cursor.fetchone()


def test_the_raw_columns_hold_tokens_not_the_numbers(records):
    number = id_number(date(1950, 3, 15), 131)
    raw_id, raw_phone, id_hash, phone_hash = raw_columns(records.adult.pk)

    assert number not in raw_id and "13912340001" not in raw_phone
    assert "1950" not in raw_id and "1234" not in raw_phone
    assert raw_id.startswith("gAAAA") and raw_phone.startswith("gAAAA")  # Fernet tokens
    assert id_hash == crypto.blind_index("id", number) and len(id_hash) == crypto.BLIND_INDEX_LENGTH
    assert number not in id_hash and "13912340001" not in phone_hash
    # The ORM gives the plain values back.
    fresh = Resident.objects.get(pk=records.adult.pk)
    assert fresh.id_number == number and fresh.phone == "13912340001"


def test_two_encryptions_of_one_number_differ_but_the_blind_index_is_stable():
    assert crypto.encrypt("13912340001") != crypto.encrypt("13912340001")
    assert crypto.blind_index("phone", "13912340001") == crypto.blind_index("phone", "13912340001")
    assert crypto.blind_index("phone", "13912340001") != crypto.blind_index("id", "13912340001")
    assert crypto.encrypt("") == "" and crypto.blind_index("id", "") == ""


def test_the_blind_index_finds_a_resident_by_a_typed_number(records):
    typed_id = id_number(date(1950, 3, 15), 131).lower().replace("3", "３", 1)
    assert Resident.objects.get(id_number_hash=id_number_lookup_hash(typed_id)) == records.adult
    assert Resident.objects.get(phone_hash=phone_lookup_hash("+86 139-1234-0001")) == records.adult
    assert id_number_lookup_hash("not a number") == ""


def test_the_blind_index_depends_on_its_own_key(settings):
    before = crypto.blind_index("phone", "13912340001")
    settings.PERSONAL_DATA_HASH_KEY = "another-hash-key-of-at-least-32-characters"
    assert crypto.blind_index("phone", "13912340001") != before


def test_a_token_of_an_unknown_key_is_refused(settings):
    token = crypto.encrypt("13912340001")
    settings.PERSONAL_DATA_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(token)


def test_key_rotation_reencrypts_every_row_with_the_newest_key(records, settings):
    old_key = settings.PERSONAL_DATA_KEYS[0]
    before = raw_columns(records.adult.pk)
    new_key = Fernet.generate_key().decode()
    settings.PERSONAL_DATA_KEYS = [new_key, old_key]
    # Still readable before the command: the old key is second.
    assert Resident.objects.get(pk=records.adult.pk).phone == "13912340001"
    assert not crypto.is_current(before[1])

    call_command("personal_data_rekey", batch=2, stdout=open("/dev/null", "w"))

    after = raw_columns(records.adult.pk)
    assert after[0] != before[0] and after[1] != before[1]
    assert after[2:] == before[2:]  # blind indexes unchanged (same hash key)
    settings.PERSONAL_DATA_KEYS = [new_key]  # the old key dropped: everything still decrypts
    for resident in Resident.objects.all():
        assert resident.id_number == "" or len(resident.id_number) == 18
    assert Resident.objects.get(pk=records.adult.pk).phone == "13912340001"
    assert Resident.objects.get(pk=records.adult.pk).id_number == id_number(date(1950, 3, 15), 131)


def test_rekey_with_reindex_recomputes_the_blind_indexes(records, settings):
    settings.PERSONAL_DATA_HASH_KEY = "a-brand-new-hash-key-for-the-blind-index"
    assert not Resident.objects.filter(phone_hash=phone_lookup_hash("13912340001")).exists()

    call_command("personal_data_rekey", reindex=True, stdout=open("/dev/null", "w"))

    assert Resident.objects.get(phone_hash=phone_lookup_hash("13912340001")) == records.adult
    assert Resident.objects.get(id_number_hash=id_number_lookup_hash(records.adult.id_number)) == records.adult
    assert raw_columns(records.outsider.pk)[2] == ""  # no ID number: no index
