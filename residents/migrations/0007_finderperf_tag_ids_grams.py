"""政策找人 over a million residents (issue 7): tags as an indexed array, keywords of one or two
characters by an index, on PostgreSQL; other databases (the SQLite demo) skip all of it.

* `residents_resident.tag_ids` (int[], sorted): the ids of the resident's tags, a copy of the rows
  of `residents_residenttag` (which stays the truth). Statement-level triggers on that table keep
  it in step whoever writes the rows (the tag services, the derived-tag refresh, the import, the
  demo, bulk inserts, cascades): each statement recomputes the array of every resident it touched
  from the tag table. Any-of is `tag_ids && …`, all-of `tag_ids @> …`, both served by one GIN
  index over active residents. The column is not a model field (the ORM never writes it; the
  finder reads it in SQL: residents.finder).
* `finder_grams(text)`: every substring of one and two characters. A keyword of one or two
  characters (疫区) holds no trigram, so pg_trgm cannot look it up; GIN indexes over the grams of
  the lower-cased name, notes and house address can (`finder_grams(lower(col)) @> ARRAY[…]`),
  and `ILIKE`/`LIKE` still decides (the index only narrows).
"""

from django.db import migrations

FUNCTIONS = [
    # Every substring of one and two characters of `t`, distinct (an index key set).
    """
    CREATE OR REPLACE FUNCTION finder_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(DISTINCT g), '{}'::text[])
        FROM (SELECT substr(t, i, 1) AS g FROM generate_series(1, length(t)) AS i
              UNION ALL
              SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i) AS grams
    $$
    """,
    # Recompute tag_ids of the residents whose tag rows a statement inserted or deleted.
    """
    CREATE OR REPLACE FUNCTION residents_tag_ids_sync() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE residents_resident r
        SET tag_ids = coalesce(
            (SELECT array_agg(t.tag_id::integer ORDER BY t.tag_id) FROM residents_residenttag t WHERE t.resident_id = r.id),
            '{}'::int[])
        WHERE r.id IN (SELECT resident_id FROM changed_rows);
        RETURN NULL;
    END
    $$
    """,
    # The same for updates: the residents on both sides of each changed row.
    """
    CREATE OR REPLACE FUNCTION residents_tag_ids_sync_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE residents_resident r
        SET tag_ids = coalesce(
            (SELECT array_agg(t.tag_id::integer ORDER BY t.tag_id) FROM residents_residenttag t WHERE t.resident_id = r.id),
            '{}'::int[])
        WHERE r.id IN (SELECT resident_id FROM old_rows UNION SELECT resident_id FROM new_rows);
        RETURN NULL;
    END
    $$
    """,
]

FORWARD = [
    "ALTER TABLE residents_resident ADD COLUMN IF NOT EXISTS tag_ids integer[] NOT NULL DEFAULT '{}'",
    # Backfill from the tag table (the truth), then the triggers keep it.
    """
    UPDATE residents_resident r SET tag_ids = t.ids
    FROM (SELECT resident_id, array_agg(tag_id::integer ORDER BY tag_id) AS ids
          FROM residents_residenttag GROUP BY resident_id) t
    WHERE t.resident_id = r.id
    """,
    "DROP TRIGGER IF EXISTS residents_tag_ids_insert ON residents_residenttag",
    "DROP TRIGGER IF EXISTS residents_tag_ids_delete ON residents_residenttag",
    "DROP TRIGGER IF EXISTS residents_tag_ids_update ON residents_residenttag",
    """
    CREATE TRIGGER residents_tag_ids_insert AFTER INSERT ON residents_residenttag
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION residents_tag_ids_sync()
    """,
    """
    CREATE TRIGGER residents_tag_ids_delete AFTER DELETE ON residents_residenttag
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION residents_tag_ids_sync()
    """,
    """
    CREATE TRIGGER residents_tag_ids_update AFTER UPDATE ON residents_residenttag
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION residents_tag_ids_sync_update()
    """,
    # Any-of / all-of tags over active residents (the finder reads active residents only).
    "CREATE INDEX IF NOT EXISTS res_resident_tag_ids ON residents_resident USING gin (tag_ids) "
    "WHERE status = 'active'",
    # Keywords of one or two characters.
    "CREATE INDEX IF NOT EXISTS res_resident_name_grams ON residents_resident "
    "USING gin (finder_grams(lower(name)))",
    "CREATE INDEX IF NOT EXISTS res_resident_notes_grams ON residents_resident "
    "USING gin (finder_grams(lower(notes))) WHERE notes <> ''",
    "CREATE INDEX IF NOT EXISTS res_house_address_grams ON residents_house USING gin (finder_grams(lower(address)))",
]

BACKWARD = [
    "DROP INDEX IF EXISTS res_house_address_grams",
    "DROP INDEX IF EXISTS res_resident_notes_grams",
    "DROP INDEX IF EXISTS res_resident_name_grams",
    "DROP INDEX IF EXISTS res_resident_tag_ids",
    "DROP TRIGGER IF EXISTS residents_tag_ids_insert ON residents_residenttag",
    "DROP TRIGGER IF EXISTS residents_tag_ids_delete ON residents_residenttag",
    "DROP TRIGGER IF EXISTS residents_tag_ids_update ON residents_residenttag",
    "DROP FUNCTION IF EXISTS residents_tag_ids_sync_update()",
    "DROP FUNCTION IF EXISTS residents_tag_ids_sync()",
    "ALTER TABLE residents_resident DROP COLUMN IF EXISTS tag_ids",
    "DROP FUNCTION IF EXISTS finder_grams(text)",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in [*FUNCTIONS, *FORWARD]:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("residents", "0006_resident_import_jobs")]

    operations = [migrations.RunPython(forward, backward)]
