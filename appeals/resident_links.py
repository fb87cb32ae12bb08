"""What the residents' policy finder asks of petitions: "has an open petition" (docs/residents-finder.md).

`residents` sits below `appeals` and never imports it; `AppealsConfig.ready` registers
`open_petition_contacts` with `residents.finder`. A resident has an open petition when a petition
not yet resolved, closed or merged, inside the reader's scope, was filed from the resident's house
(its address normalises to the house's address key, the rule petitions are routed by) or with the
resident's phone (compared by the phone's blind index; the resident's phone is stored encrypted).
"""

from __future__ import annotations

from django.db.models import Q

from appeals.models import OPEN_STATUSES, Petition
from governance.scoping import LEVEL_FIELDS, LEVEL_PATH_FIELD, Scope
from residents.finder import OpenPetitionContacts
from residents.models import normalize_address
from residents.services.people import phone_lookup_hash


def open_petition_contacts(scope: Scope) -> OpenPetitionContacts:
    petitions = Petition.objects.filter(status__in=sorted(OPEN_STATUSES))
    if not scope.sees_all:
        petitions = petitions.filter(scope.level_condition(LEVEL_FIELDS, LEVEL_PATH_FIELD) or Q(pk__in=[]))
    addresses: set[str] = set()
    phones: set[str] = set()
    # One fetch (not .iterator(): a server-side cursor costs three more round trips per count).
    for phone, address in petitions.values_list("contact_phone", "address").distinct():
        if address:
            key = normalize_address(address)
            if key:
                addresses.add(key)
        if phone:
            digest = phone_lookup_hash(phone)  # the same blind index the resident's phone carries
            if digest:
                phones.add(digest)
    return OpenPetitionContacts(address_keys=frozenset(addresses), phone_hashes=frozenset(phones))
