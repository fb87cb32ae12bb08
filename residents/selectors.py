from __future__ import annotations

from residents.models import House, normalize_address


def house_for_address(address: str) -> House | None:
    key = normalize_address(address)
    if not key:
        return None
    return House.objects.select_related("microgrid").filter(address_key=key).first()


def house_for_doorplate(code: str) -> House | None:
    return House.objects.select_related("microgrid").filter(doorplate_code=code).first()
