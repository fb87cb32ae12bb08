from __future__ import annotations

from grids.models import Area, AreaLevel
from residents.models import House, normalize_address


def house_create(
    *,
    address: str,
    microgrid: Area,
    doorplate_code: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> House:
    if microgrid.level != AreaLevel.MICROGRID:
        raise ValueError("A house belongs to a micro-grid.")
    return House.objects.create(
        address=address,
        address_key=normalize_address(address),
        doorplate_code=doorplate_code,
        microgrid=microgrid,
        area_path=microgrid.path,
        lon=lon,
        lat=lat,
    )
