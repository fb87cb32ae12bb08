"""What the residents' policy finder asks of petitions: "has an open petition" (docs/residents-finder.md).

`residents` sits below `appeals` and never imports it; `AppealsConfig.ready` registers
`open_petition_contacts` with `residents.finder`. A resident has an open petition when a petition
not yet resolved, closed or merged, inside the reader's scope, was filed from the resident's house
(its address normalises to the house's address key, the rule petitions are routed by) or with the
resident's phone (compared by the phone's blind index; the resident's phone is stored encrypted).
Each petition keeps both keys in columns of its own (`address_key`, `contact_phone_hash`), so the
condition is a part of the count's one statement.
"""

from __future__ import annotations

from django.db.models import Q

from appeals.models import OPEN_STATUSES, Petition
from governance.scoping import LEVEL_FIELDS, LEVEL_PATH_FIELD, Scope
from residents.finder import OpenPetitionContacts


def open_petition_contacts(scope: Scope) -> OpenPetitionContacts:
    """The open petitions of `scope`: their address keys and phone digests, as two subqueries (the
    columns each petition keeps, governance.derived), so the finder's count stays one statement."""
    petitions = Petition.objects.filter(status__in=sorted(OPEN_STATUSES))
    if not scope.sees_all:
        petitions = petitions.filter(scope.level_condition(LEVEL_FIELDS, LEVEL_PATH_FIELD) or Q(pk__in=[]))
    return OpenPetitionContacts(
        address_keys=petitions.exclude(address_key="").values("address_key"),
        phone_hashes=petitions.exclude(contact_phone_hash="").values("contact_phone_hash"),
    )
