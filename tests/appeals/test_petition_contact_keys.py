"""A petition keeps its address key and contact phone digest (governance.derived), whatever writes it."""

from __future__ import annotations

import importlib

from django.core.management import call_command
from django.db import connection

from appeals.models import Petition
from governance.crypto import phone_blind_index
from residents.models import normalize_address

fill = importlib.import_module("appeals.migrations.0026_petition_contact_keys").fill


def stored(petition: Petition) -> tuple[str, str]:
    return tuple(Petition.objects.filter(pk=petition.pk).values_list("address_key", "contact_phone_hash").get())


def test_a_submitted_petition_keeps_the_keys_of_its_address_and_phone(submit):
    petition = submit(address="幸福路 12 号（3单元）", contact_phone="138-0013-8000")
    assert stored(petition) == (normalize_address("幸福路12号(3单元)"), phone_blind_index("13800138000"))
    assert stored(petition)[1] and len(stored(petition)[1]) == 32


def test_no_phone_or_no_number_keeps_no_digest(submit):
    petition = submit(route=False)
    for phone in ("", "not a phone"):
        petition.contact_phone = phone
        petition.save()
        assert stored(petition)[1] == ""


def test_saving_a_changed_address_changes_its_key(submit):
    petition = submit(address="幸福路12号")
    petition.address = "延安路 3 号"
    petition.save()
    assert stored(petition)[0] == "延安路3号"


def test_rekey_with_reindex_recomputes_the_phone_digests(submit, settings):
    petition = submit(contact_phone="13800138000")
    settings.PERSONAL_DATA_HASH_KEY = "a-brand-new-hash-key-for-the-blind-index"
    assert stored(petition)[1] != phone_blind_index("13800138000")
    call_command("personal_data_rekey", reindex=True, stdout=open("/dev/null", "w"))
    assert stored(petition)[1] == phone_blind_index("13800138000")


def test_the_migration_fills_the_keys_of_existing_rows(submit):
    petitions = [submit(address=f"幸福路{n}号", contact_phone=f"1380013800{n}") for n in range(3)]
    petitions.append(submit(address=""))
    Petition.objects.filter(pk=petitions[-1].pk).update(contact_phone="", contact_phone_hash="")
    expected = [stored(p) for p in petitions]
    Petition.objects.update(address_key="", contact_phone_hash="")
    with connection.schema_editor() as editor:
        fill(None, editor)
    assert [stored(p) for p in petitions] == expected
    assert expected[-1] == ("", "")
