"""`manage.py audit_grants --app-role NAME`: the PostgreSQL privileges of the application role.

In production the application connects as a role that is not a superuser, owns no table and
cannot create roles; migrations and this command run as the role that owns the tables. The
application role may read and write every table except the audit trail's, where it may only
SELECT and INSERT: with no UPDATE, DELETE or TRUNCATE privilege, and not owning the tables (an
owner can ALTER TABLE ... DISABLE TRIGGER), it cannot change the trail even if the append-only
triggers of migration 0004 were gone.

Without options the statements are printed; --apply runs them (in one transaction) and then
checks; --check only reports what makes the role unsafe. Run --apply after every `migrate`:
default privileges cover new ordinary tables, but a new audit table needs its grants narrowed.
"""

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from portal.models import AuditEvent, AuditSeal

AUDIT_TABLES = (AuditEvent._meta.db_table, AuditSeal._meta.db_table)
TRIGGER_FUNCTION = "portal_audit_refuse_change"
# Role names as the command accepts them: a plain SQL identifier, matched case-sensitively.
ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
FORBIDDEN_ON_AUDIT = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")
NEEDED_ON_AUDIT = ("SELECT", "INSERT")
PRIVILEGES = FORBIDDEN_ON_AUDIT + NEEDED_ON_AUDIT
# Per audit table: whether the role owns it (or may act as its owner), which of PRIVILEGES it
# holds (in that order), and how many of its user triggers are enabled.
AUDIT_TABLE_STATE = """
SELECT c.relname, pg_has_role(%s, c.relowner, 'MEMBER'),
       has_table_privilege(%s, c.oid, 'UPDATE'), has_table_privilege(%s, c.oid, 'DELETE'),
       has_table_privilege(%s, c.oid, 'TRUNCATE'), has_table_privilege(%s, c.oid, 'TRIGGER'),
       has_table_privilege(%s, c.oid, 'REFERENCES'), has_table_privilege(%s, c.oid, 'SELECT'),
       has_table_privilege(%s, c.oid, 'INSERT'),
       (SELECT count(*) FROM pg_trigger t
         WHERE t.tgrelid = c.oid AND NOT t.tgisinternal AND t.tgenabled <> 'D')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relname = ANY(%s)
 ORDER BY c.relname
"""


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def grant_statements(*, app_role: str, schema: str) -> list[str]:
    role, schema = quote(app_role), quote(schema)
    audit = ", ".join(f"{schema}.{quote(table)}" for table in AUDIT_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        # The audit trail: read and append, nothing else.
        f"REVOKE ALL ON TABLE {audit} FROM {role}",
        f"GRANT SELECT, INSERT ON TABLE {audit} TO {role}",
        # Tables and sequences later migrations create (as the role running this command).
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def role_findings(app_role: str) -> list[str]:
    """What would let `app_role` change the audit trail, or keep it from appending; empty when
    it can read and append and nothing else."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = %s", [app_role]
        )
        row = cursor.fetchone()
        if row is None:
            return [f"role {app_role} does not exist (CREATE ROLE {quote(app_role)} LOGIN ...)"]
        findings = []
        if row[0]:
            findings.append(f"{app_role} is a superuser")
        if row[1]:
            findings.append(f"{app_role} has CREATEROLE (it could join the owner's role)")
        cursor.execute(AUDIT_TABLE_STATE, [app_role] * (1 + len(PRIVILEGES)) + [list(AUDIT_TABLES)])
        for table, owns, *rest in cursor.fetchall():
            held = {p for p, has in zip(PRIVILEGES, rest[:-1], strict=True) if has}
            if owns:
                findings.append(f"{app_role} owns {table} or is a member of its owner")
            if granted := [p for p in FORBIDDEN_ON_AUDIT if p in held]:
                findings.append(f"{app_role} may {', '.join(granted)} {table}")
            if lacking := [p for p in NEEDED_ON_AUDIT if p not in held]:
                findings.append(f"{app_role} lacks {', '.join(lacking)} on {table}")
            enabled_triggers = rest[-1]
            if enabled_triggers < 2:
                findings.append(f"{table} lacks its enabled append-only triggers")
        cursor.execute(
            "SELECT bool_or(pg_has_role(%s, p.proowner, 'MEMBER')) FROM pg_proc p "
            "WHERE p.proname = %s",
            [app_role, TRIGGER_FUNCTION],
        )
        if cursor.fetchone()[0]:
            findings.append(f"{app_role} owns the trigger function {TRIGGER_FUNCTION}")
        cursor.execute("SELECT has_schema_privilege(%s, current_schema(), 'CREATE')", [app_role])
        if cursor.fetchone()[0]:
            # Through PUBLIC before PostgreSQL 15: REVOKE CREATE ON SCHEMA public FROM PUBLIC.
            findings.append(f"{app_role} may CREATE objects in the schema")
    return findings


class Command(BaseCommand):
    help = (
        "Print (or --apply) the PostgreSQL grants that let the application role only read and "
        "append the audit trail; --check reports what makes the role unsafe."
    )

    def add_arguments(self, parser):
        parser.add_argument("--app-role", required=True, help="The role the application uses.")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--apply", action="store_true", help="Run the statements, then check.")
        mode.add_argument("--check", action="store_true", help="Only check the role.")

    def handle(self, *args, app_role, apply, check, **options):
        if connection.vendor != "postgresql":
            raise CommandError("audit_grants needs PostgreSQL: SQLite has no roles.")
        if not ROLE_NAME.fullmatch(app_role):
            raise CommandError("--app-role must be a plain SQL identifier (letters, digits, _).")
        if not check:
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_schema(), current_user")
                schema, owner = cursor.fetchone()
            if app_role == owner:
                raise CommandError(
                    f"{app_role} is the role running this command, the tables' owner: the "
                    "application needs a role of its own."
                )
            statements = grant_statements(app_role=app_role, schema=schema)
            if not apply:
                self.stdout.write(f"-- Run as {owner}, the role that runs migrations.")
                self.stdout.write(";\n".join(statements) + ";")
                return
            with transaction.atomic(), connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
            self.stdout.write(f"Applied {len(statements)} statements for {app_role}.")
        findings = role_findings(app_role)
        if findings:
            raise CommandError(f"{app_role} is not ready:\n- " + "\n- ".join(findings))
        self.stdout.write(
            self.style.SUCCESS(
                f"{app_role} may only SELECT and INSERT audit rows and cannot disable triggers."
            )
        )
