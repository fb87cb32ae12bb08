"""The community's records (人、房、楼、标签、党组织), one module each; import them from here."""

from residents.models.base import Located
from residents.models.houses import Building, House, HouseUse, normalize_address
from residents.models.imports import ImportJob, ImportKind, ImportMapping, ImportRow, ImportStatus
from residents.models.party import PartyGroup, PartyHousehold
from residents.models.people import (
    ADULT_AGE,
    Gender,
    RecordChange,
    Registration,
    Relation,
    Resident,
    ResidentStatus,
    age_on,
)
from residents.models.tags import ResidentTag, Tag, TagKind

__all__ = [
    "ADULT_AGE",
    "Building",
    "Gender",
    "House",
    "ImportJob",
    "ImportKind",
    "ImportMapping",
    "ImportRow",
    "ImportStatus",
    "HouseUse",
    "Located",
    "PartyGroup",
    "PartyHousehold",
    "RecordChange",
    "Registration",
    "Relation",
    "Resident",
    "ResidentStatus",
    "ResidentTag",
    "Tag",
    "TagKind",
    "age_on",
    "normalize_address",
]

# 政策找人 (branch finder): saved policies and the contacts made about them.
from residents.models.policy import ContactOutcome, Policy, PolicyContact

__all__ += ["ContactOutcome", "Policy", "PolicyContact"]
