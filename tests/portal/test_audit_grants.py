"""The production database role (README, Security → Audit trail): the application connects as a
role that may read and append the audit trail and nothing else. Proven by connecting as such a
role, made in the test database with `manage.py audit_grants --apply`."""

# ruff: noqa: S608 - the statements name fixed tables; values are bound.

import secrets
import uuid
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg import errors

pytestmark = pytest.mark.django_db

AUDIT_TABLES = ("portal_auditevent", "portal_auditseal")
INSERT_EVENT = """
    INSERT INTO portal_auditevent (occurred_at, actor_public_id, role, action, object_type,
        object_id, patient_ids, changed_fields, user_agent, request_id)
    VALUES (now(), '', '', 'view', 'portal.patient', 'p1', '[]', '[]', '', '') RETURNING id
"""
INSERT_SEAL = """
    INSERT INTO portal_auditseal (first_event_id, last_event_id, event_count, events_digest,
        previous_digest, digest, sealed_at, skipped_ids, late_ids, fingerprints, key_id)
    VALUES (%s, %s, 1, %s, %s, %s, now(), '[]', '[]', '', '') RETURNING id
"""


@pytest.fixture
def app_role():
    """A LOGIN role with a unique name (roles are cluster-wide), dropped after the test."""
    name = f"medfront_app_{uuid.uuid4().hex[:12]}"
    password = secrets.token_hex(16)
    with connection.cursor() as cursor:
        # Utility statements take no bound parameters; name and password are hex only.
        cursor.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    try:
        yield name, password
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {name}")
            cursor.execute(f"DROP ROLE {name}")


def connect_as(role):
    """A connection to the test database as `role`, with the test database's host and port."""
    name, password = role
    params = connection.settings_dict
    return psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        dbname=params["NAME"],
        user=name,
        password=password,
        autocommit=True,
        connect_timeout=10,
    )


def refused(conn, statement, params=None):
    """The error `statement` raises as the connection's role."""
    with pytest.raises(errors.InsufficientPrivilege) as excinfo:
        conn.execute(statement, params)
    return str(excinfo.value)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_application_role_reads_and_appends_audit_rows_and_can_change_none(app_role):
    call_command("audit_grants", "--app-role", app_role[0], "--apply", stdout=StringIO())
    with connect_as(app_role) as conn:
        event_id = conn.execute(INSERT_EVENT).fetchone()[0]
        assert conn.execute("SELECT count(*) FROM portal_auditevent").fetchone()[0] == 1
        digest = secrets.token_hex(32)
        seal_id = conn.execute(
            INSERT_SEAL, [event_id, event_id, digest, "0" * 64, secrets.token_hex(32)]
        ).fetchone()[0]
        assert conn.execute("SELECT events_digest FROM portal_auditseal").fetchone()[0] == digest

        for table, row_id in (("portal_auditevent", event_id), ("portal_auditseal", seal_id)):
            # "permission denied": the grants refuse, before the append-only trigger would.
            assert "permission denied" in refused(
                conn, f"UPDATE {table} SET id = id WHERE id = %s", [row_id]
            )
            assert "permission denied" in refused(
                conn, f"DELETE FROM {table} WHERE id = %s", [row_id]
            )
            # The trigger's opt-in for test flushes does not help without the privilege.
            conn.execute("SET medfront.audit_truncate = 'allow'")
            assert "permission denied" in refused(conn, f"TRUNCATE {table}")
            assert "must be owner" in refused(conn, f"ALTER TABLE {table} DISABLE TRIGGER USER")
            assert "must be owner" in refused(
                conn, f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"
            )
            assert "must be owner" in refused(conn, f"DROP TRIGGER {table}_no_truncate ON {table}")
        # Nor can it swap the trigger function for one that lets changes through.
        assert "permission denied for schema" in refused(
            conn,
            "CREATE OR REPLACE FUNCTION portal_audit_refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$",
        )
        # The rest of the application still reads and writes its tables.
        conn.execute("UPDATE portal_clinic SET name = name WHERE false")
        conn.execute("DELETE FROM django_session WHERE false")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM portal_auditevent WHERE id = %s", [event_id])
        assert cursor.fetchone()[0] == 1
    out = StringIO()
    call_command("audit_grants", "--app-role", app_role[0], "--check", stdout=out)
    assert "may only SELECT and INSERT audit rows" in out.getvalue()


@pytest.mark.postgres_only
def test_without_apply_it_prints_the_statements_for_the_owner_to_run(app_role):
    out = StringIO()
    call_command("audit_grants", "--app-role", app_role[0], stdout=out)
    text = out.getvalue()
    role = f'"{app_role[0]}"'
    audit = '"public"."portal_auditevent", "public"."portal_auditseal"'
    assert f"REVOKE ALL ON TABLE {audit} FROM {role};" in text
    assert f"GRANT SELECT, INSERT ON TABLE {audit} TO {role};" in text
    # Printing changes nothing: the role has no privilege yet.
    with pytest.raises(CommandError, match="lacks SELECT, INSERT on portal_auditevent"):
        call_command("audit_grants", "--app-role", app_role[0], "--check")


@pytest.mark.postgres_only
def test_check_refuses_a_role_that_could_disable_the_triggers(app_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'portal_auditevent'")
        owner = cursor.fetchone()[0]
        cursor.execute(f'GRANT "{owner}" TO {app_role[0]}')
    with pytest.raises(CommandError) as excinfo:
        call_command("audit_grants", "--app-role", app_role[0], "--check")
    assert f"{app_role[0]} owns portal_auditevent or is a member of its owner" in str(excinfo.value)


@pytest.mark.postgres_only
def test_check_refuses_a_role_that_may_create_in_the_schema(app_role):
    call_command("audit_grants", "--app-role", app_role[0], "--apply", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT CREATE ON SCHEMA public TO {app_role[0]}")
    with pytest.raises(CommandError, match="may CREATE objects in the schema"):
        call_command("audit_grants", "--app-role", app_role[0], "--check")


@pytest.mark.postgres_only
def test_check_refuses_a_superuser():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        superuser = cursor.fetchone()[0]
    with pytest.raises(CommandError, match=f"{superuser} is a superuser"):
        call_command("audit_grants", "--app-role", superuser, "--check")


@pytest.mark.postgres_only
def test_it_refuses_a_role_name_that_is_not_a_plain_identifier():
    with pytest.raises(CommandError, match="plain SQL identifier"):
        call_command("audit_grants", "--app-role", 'app"; DROP TABLE x; --')


def test_on_sqlite_it_says_it_needs_postgresql():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("audit_grants", "--app-role", "medfront_app")
