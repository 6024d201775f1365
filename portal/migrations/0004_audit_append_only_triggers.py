"""PostgreSQL triggers that make the audit tables append-only.

Grants cannot prove this (the application and test users may be superusers or table owners),
so the database itself refuses UPDATE, DELETE and TRUNCATE of audit events and seals. Sealing
only inserts, so it keeps working. TRUNCATE is allowed only in a session that sets
`medfront.audit_truncate = 'allow'`: the test runner's flush between transactional tests needs
it, and anyone able to set it could drop the trigger anyway. SQLite has no such triggers; there
the trail relies on the hash chain alone.
"""

from django.db import migrations

TABLES = ("portal_auditevent", "portal_auditseal")

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE'
       AND coalesce(current_setting('medfront.audit_truncate', true), '') = 'allow' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

ROW_TRIGGER = """
CREATE TRIGGER {table}_append_only
BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION portal_audit_refuse_change();
"""

TRUNCATE_TRIGGER = """
CREATE TRIGGER {table}_no_truncate
BEFORE TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION portal_audit_refuse_change();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(ROW_TRIGGER.format(table=table))
        schema_editor.execute(TRUNCATE_TRIGGER.format(table=table))


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS portal_audit_refuse_change();")


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_audit_seal_holes_and_checkpoints"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
