"""Covering indexes for 政策找人's conditions on houses (residents.finder), PostgreSQL only; other
databases (the SQLite demo) skip them.

The house conditions are `house_id = ANY(ARRAY(houses …))`: the houses first, then their residents
by house id. Over a district both sides read thousands of scattered rows; with these indexes
neither reads the table (an index-only scan, the visibility map set by VACUUM):

* `res_house_finder_use`: the houses of a use with the level columns and path their scope is
  checked on (replaces `res_house_use`, the same keys without them);
* `res_house_finder_key`: address keys to house ids (has an open petition: thousands of keys,
  compared bytewise as the unique index's `varchar_pattern_ops` twin does, without its heap);
* `res_resident_finder_house`: active residents by house and birth date, with their id (the page's
  first 20 ids) and the columns the scope and the plain conditions read. The birth date is a key:
  where the house condition is one arm of an OR (the open petition's houses or phones: a bitmap
  scan, which cannot answer from the index alone) an age range still narrows inside the index, so
  only the matching residents' rows are read.
"""

from django.db import migrations

INDEXES = [
    (
        "res_house_finder_use",
        "CREATE INDEX IF NOT EXISTS res_house_finder_use ON residents_house (use, id) "
        "INCLUDE (area_path, street_id, community_id, grid_id, microgrid_id)",
    ),
    (
        "res_house_finder_key",
        "CREATE INDEX IF NOT EXISTS res_house_finder_key ON residents_house (address_key varchar_pattern_ops) "
        "INCLUDE (id)",
    ),
    (
        "res_resident_finder_house",
        "CREATE INDEX IF NOT EXISTS res_resident_finder_house ON residents_resident (house_id, birth_date) "
        "INCLUDE (id, gender, registration, living_alone, area_path) WHERE status = 'active'",
    ),
]
# Replaced by res_house_finder_use (restored when this migration is reversed).
REPLACED = ("res_house_use", "CREATE INDEX IF NOT EXISTS res_house_use ON residents_house (use, id)")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _name, sql in INDEXES:
        schema_editor.execute(sql)
    schema_editor.execute(f"DROP INDEX IF EXISTS {REPLACED[0]}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(REPLACED[1])
    for name, _sql in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("residents", "0007_finderperf_tag_ids_grams")]

    operations = [migrations.RunPython(create, drop)]
