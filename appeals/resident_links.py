"""What the residents' policy finder asks of petitions: "has an open petition" (docs/residents-finder.md).

`residents` sits below `appeals` and never imports it; `AppealsConfig.ready` registers
`open_petition_contacts` with `residents.finder`. A resident has an open petition when a petition
not yet resolved, closed or merged, inside the reader's scope, was filed from the resident's house
(its address normalises to the house's address key, the rule petitions are routed by) or with the
resident's phone (compared by the phone's blind index; the resident's phone is stored encrypted).
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.db.models import Q
from django.dispatch import receiver

from appeals.models import OPEN_STATUSES, Petition
from governance.scoping import LEVEL_FIELDS, LEVEL_PATH_FIELD, Scope
from residents.finder import OpenPetitionContacts
from residents.models import normalize_address
from residents.services.people import phone_lookup_hash

# The open petitions' address keys and phone digests, remembered per process: each is a function of
# the petition's text alone (the digest also of the blind-index key: forgotten when that setting
# changes), and every count over a scope reads the same open petitions again. Bounded: emptied
# when full.
MEMO_MAX = 50_000
_address_keys: dict[str, str] = {}
_phone_digests: dict[str, str] = {}


def _remembered(memo: dict[str, str], compute: Any, value: str) -> str:
    found = memo.get(value)
    if found is None:
        if len(memo) >= MEMO_MAX:
            memo.clear()
        found = memo[value] = compute(value)
    return found


@receiver(setting_changed)
def _hash_key_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "PERSONAL_DATA_HASH_KEY":
        _phone_digests.clear()


def open_petition_contacts(scope: Scope) -> OpenPetitionContacts:
    petitions = Petition.objects.filter(status__in=sorted(OPEN_STATUSES))
    if not scope.sees_all:
        petitions = petitions.filter(scope.level_condition(LEVEL_FIELDS, LEVEL_PATH_FIELD) or Q(pk__in=[]))
    addresses: set[str] = set()
    phones: set[str] = set()
    # One fetch (not .iterator(): a server-side cursor costs three more round trips per count).
    for phone, address in petitions.values_list("contact_phone", "address").distinct():
        if address:
            key = _remembered(_address_keys, normalize_address, address)
            if key:
                addresses.add(key)
        if phone:
            # The same blind index the resident's phone carries.
            digest = _remembered(_phone_digests, phone_lookup_hash, phone)
            if digest:
                phones.add(digest)
    return OpenPetitionContacts(address_keys=frozenset(addresses), phone_hashes=frozenset(phones))
