"""Personal data at rest (PIPL arts. 28, 51): encryption and blind indexes for ID numbers and phones.

A thin layer over `cryptography`'s Fernet (AES-128-CBC with HMAC-SHA256, random IV per value):

* `PERSONAL_DATA_KEYS` (settings, from the environment) lists Fernet keys, newest first. New
  values are encrypted with the first; any of them decrypts (MultiFernet). Rotation: put a new key
  in front, run `manage.py personal_data_rekey` (every row re-encrypted with the newest key), then
  drop the old key.
* `PERSONAL_DATA_HASH_KEY` keys an HMAC-SHA256 of the normalised value: the blind index, one
  indexed column that finds a record by its exact ID number or phone without decrypting anything.
  It never rotates with the encryption keys (changing it means recomputing every index).
* `EncryptedTextField` stores the Fernet token; the database column never holds the plain value.

docs/personal-data.md describes keys, rotation and the retention purge.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver

from governance.identity import is_valid_phone, normalize_phone

__all__ = [
    "EncryptedTextField",
    "InvalidToken",
    "blind_index",
    "decrypt",
    "encrypt",
    "phone_blind_index",
    "is_current",
    "rotate",
]

# The blind index is the first 32 hex digits (128 bits) of the HMAC: collisions stay impossible in
# practice and the index stays small.
BLIND_INDEX_LENGTH = 32


@lru_cache(maxsize=1)
def _fernets() -> tuple[MultiFernet, Fernet]:
    keys = list(settings.PERSONAL_DATA_KEYS)
    if not keys:
        raise RuntimeError("PERSONAL_DATA_KEYS is empty: personal data cannot be encrypted.")
    fernets = [Fernet(key.encode() if isinstance(key, str) else key) for key in keys]
    return MultiFernet(fernets), fernets[0]


@lru_cache(maxsize=1)
def _hash_key() -> bytes:
    key = settings.PERSONAL_DATA_HASH_KEY
    if not key:
        raise RuntimeError("PERSONAL_DATA_HASH_KEY is empty: blind indexes cannot be computed.")
    return key.encode() if isinstance(key, str) else key


@receiver(setting_changed)
def _keys_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in {"PERSONAL_DATA_KEYS", "PERSONAL_DATA_HASH_KEY"}:
        _fernets.cache_clear()
        _hash_key.cache_clear()


def encrypt(value: str) -> str:
    """The Fernet token of `value` under the newest key; "" stays "" (nothing recorded)."""
    if not value:
        return ""
    return _fernets()[0].encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The plain value of a token made with any configured key; raises InvalidToken otherwise."""
    if not token:
        return ""
    return _fernets()[0].decrypt(token.encode("ascii")).decode()


def rotate(token: str) -> str:
    """The token re-encrypted under the newest key (its original timestamp kept)."""
    if not token:
        return ""
    return _fernets()[0].rotate(token.encode("ascii")).decode("ascii")


def is_current(token: str) -> bool:
    """Whether the token was made with the newest key (no re-encryption needed)."""
    if not token:
        return True
    try:
        _fernets()[1].decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def blind_index(kind: str, value: str) -> str:
    """The keyed hash of a normalised value; `kind` ("id", "phone") separates the domains.

    "" for an empty value, so an index lookup of nothing finds nothing.
    """
    if not value:
        return ""
    digest = hmac.new(_hash_key(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return digest[:BLIND_INDEX_LENGTH]


def phone_blind_index(value: str) -> str:
    """The blind index a phone is found by: that of its normal form; "" for what is no phone number."""
    phone = normalize_phone(value)
    return blind_index("phone", phone) if is_valid_phone(phone) else ""


class EncryptedTextField(models.TextField):
    """A text field stored as a Fernet token: Python sees the plain text, the column the token.

    Lookups on it cannot match (every token differs); search the blind index column instead.
    """

    description = "Text encrypted at rest (Fernet)"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str:
        if value is None:
            return ""
        return decrypt(value)

    def to_python(self, value: Any) -> str:
        return "" if value is None else str(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return ""
        return encrypt(value)
