"""Everything that writes the community's records: one module per sub-domain, re-exported here."""

from residents.services.houses import building_create, building_update, house_create, house_update
from residents.services.people import (
    clean_personal,
    id_number_lookup_hash,
    living_alone_refresh,
    phone_lookup_hash,
    resident_create,
    resident_mark_deceased,
    resident_move,
    resident_move_away,
    resident_update,
    residents_purge_expired,
)
from residents.services.tags import (
    derived_tags_refresh,
    district_tags_ensure,
    resident_tag_add,
    resident_tag_remove,
    residents_tags_add,
    tag_create,
    tag_set_active,
)

__all__ = [
    "building_create",
    "building_update",
    "clean_personal",
    "derived_tags_refresh",
    "district_tags_ensure",
    "house_create",
    "house_update",
    "id_number_lookup_hash",
    "living_alone_refresh",
    "phone_lookup_hash",
    "resident_create",
    "resident_mark_deceased",
    "resident_move",
    "resident_move_away",
    "resident_tag_add",
    "resident_tag_remove",
    "resident_update",
    "residents_purge_expired",
    "residents_tags_add",
    "tag_create",
    "tag_set_active",
]
