"""Indexes for 政策找人 (residents.finder) on PostgreSQL; other databases (the SQLite demo) skip them.

Each serves a query of `finder_residents` that a scope's level-column index cannot narrow enough
(a district scope reads every resident); bench/policy_finder.py measures them over 1,000,000 rows.
"""

from django.db import migrations

INDEXES = [
    # Keyword search (`name ILIKE '%…%'`): trigram GIN, for keywords of three characters or more.
    (
        "res_resident_name_trgm",
        "CREATE INDEX IF NOT EXISTS res_resident_name_trgm ON residents_resident USING gin (name gin_trgm_ops)",
    ),
    # Keyword search in notes; most residents have none, so only those with notes are indexed.
    (
        "res_resident_notes_trgm",
        "CREATE INDEX IF NOT EXISTS res_resident_notes_trgm ON residents_resident USING gin (notes gin_trgm_ops) "
        "WHERE notes <> ''",
    ),
    # Keyword search in addresses: `house_id IN (houses whose address ILIKE '%…%')`.
    (
        "res_house_address_trgm",
        "CREATE INDEX IF NOT EXISTS res_house_address_trgm ON residents_house USING gin (address gin_trgm_ops)",
    ),
    # Age and gender over a district (women 35-64 for a screening): an index-only range scan; the
    # included columns answer the district's path prefix and the other plain conditions.
    (
        "res_resident_finder_age",
        "CREATE INDEX IF NOT EXISTS res_resident_finder_age ON residents_resident (gender, birth_date) "
        "INCLUDE (area_path, living_alone, registration) WHERE status = 'active'",
    ),
    # The same over a street: without it the planner ANDs the street's bitmap with the district
    # index above, reading a whole age band of the district to answer one street.
    (
        "res_resident_finder_street_age",
        "CREATE INDEX IF NOT EXISTS res_resident_finder_street_age ON residents_resident "
        "(street_id, gender, birth_date) WHERE status = 'active'",
    ),
    # Elderly living alone over a district: the few who live alone, by birth date.
    (
        "res_resident_finder_alone",
        "CREATE INDEX IF NOT EXISTS res_resident_finder_alone ON residents_resident (birth_date) "
        "INCLUDE (area_path, gender, registration) WHERE status = 'active' AND living_alone",
    ),
    # House use (group rentals, shops): the houses of one use, then their residents by house.
    ("res_house_use", "CREATE INDEX IF NOT EXISTS res_house_use ON residents_house (use, id)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for _name, sql in INDEXES:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _sql in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("residents", "0004_finder_policies_and_contacts")]

    operations = [migrations.RunPython(create, drop)]
