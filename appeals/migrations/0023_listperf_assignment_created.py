"""A department's list from an index: the petition's created_at copied onto its assignments.

`Assignment.petition_created_at` is kept by the database itself, whoever writes (the services, the
demo, a bulk INSERT … SELECT): on PostgreSQL a BEFORE trigger fills it on every insert or update of
an assignment, and an AFTER trigger follows a petition whose `created_at` changes; SQLite gets the
same two rules as AFTER triggers.
"""

from django.db import migrations, models

PG_SQL = """
CREATE OR REPLACE FUNCTION appeals_assignment_petition_created() RETURNS trigger AS $$
BEGIN
    SELECT created_at INTO NEW.petition_created_at FROM appeals_petition WHERE id = NEW.petition_id;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER appeals_assignment_petition_created
    BEFORE INSERT OR UPDATE ON appeals_assignment
    FOR EACH ROW EXECUTE FUNCTION appeals_assignment_petition_created();
CREATE OR REPLACE FUNCTION appeals_petition_created_follow() RETURNS trigger AS $$
BEGIN
    UPDATE appeals_assignment SET petition_created_at = NEW.created_at WHERE petition_id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER appeals_petition_created_follow
    AFTER UPDATE OF created_at ON appeals_petition
    FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION appeals_petition_created_follow();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS appeals_assignment_petition_created ON appeals_assignment;
DROP FUNCTION IF EXISTS appeals_assignment_petition_created();
DROP TRIGGER IF EXISTS appeals_petition_created_follow ON appeals_petition;
DROP FUNCTION IF EXISTS appeals_petition_created_follow();
"""
# SQLite: AFTER triggers (recursive triggers are off, so the UPDATE inside does not fire again).
SQLITE_SQL = [
    """CREATE TRIGGER appeals_assignment_petition_created_ins AFTER INSERT ON appeals_assignment
    BEGIN UPDATE appeals_assignment SET petition_created_at =
        (SELECT created_at FROM appeals_petition WHERE id = NEW.petition_id) WHERE id = NEW.id; END""",
    """CREATE TRIGGER appeals_assignment_petition_created_upd AFTER UPDATE ON appeals_assignment
    BEGIN UPDATE appeals_assignment SET petition_created_at =
        (SELECT created_at FROM appeals_petition WHERE id = NEW.petition_id) WHERE id = NEW.id; END""",
    """CREATE TRIGGER appeals_petition_created_follow AFTER UPDATE OF created_at ON appeals_petition
    BEGIN UPDATE appeals_assignment SET petition_created_at = NEW.created_at WHERE petition_id = NEW.id; END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS appeals_assignment_petition_created_ins",
    "DROP TRIGGER IF EXISTS appeals_assignment_petition_created_upd",
    "DROP TRIGGER IF EXISTS appeals_petition_created_follow",
]
BACKFILL = """
UPDATE appeals_assignment SET petition_created_at =
    (SELECT created_at FROM appeals_petition WHERE appeals_petition.id = appeals_assignment.petition_id)
"""


def forwards(apps, schema_editor):
    schema_editor.execute(BACKFILL)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_SQL)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_SQL:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0022_deptlead_assignment_handler"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="petition_created_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(
                condition=models.Q(("status__in", ("dispatched", "reported_in", "replied"))),
                fields=["department", "-petition_created_at", "-petition"],
                name="appeals_assign_dept_recent",
            ),
        ),
    ]
