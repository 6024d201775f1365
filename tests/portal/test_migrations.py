"""Data migrations of the portal that remove personal data from rows written before them."""

import datetime
import hashlib
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from portal.crypto import decrypt_text

# Schema changes on SQLite cannot run inside a test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/patients/"
BODY = {"last_name": "Сидорова", "first_name": "Мария", "phone": "+79147770011"}
ANSWER = {"id": "6f1c1b7e-0000-4000-8000-000000000001", "last_name": "Сидорова"}


def _migrate(targets) -> None:
    MigrationExecutor(connection).migrate(targets)


def _migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_idempotency_records_of_the_previous_release_are_hashed_encrypted_and_replayed(
    registrar_a,
):
    canonical = json.dumps(BODY, sort_keys=True, separators=(",", ":"))
    try:
        _migrate([("portal", "0006_encrypt_sessions")])
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO portal_idempotencyrecord (user_id, route, key, request_hash, state,"
                " response_status, response_body, created_at, expires_at)"
                " VALUES (%s, %s, %s, %s, 'done', 201, %s, %s, %s)",
                [
                    registrar_a.pk,
                    URL,
                    "create Сидорова",
                    hashlib.sha256(canonical.encode()).hexdigest(),
                    json.dumps(ANSWER, ensure_ascii=False),
                    timezone.now(),
                    timezone.now() + datetime.timedelta(hours=1),
                ],
            )
        _migrate([("portal", "0007_idempotency_without_pii")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT key_digest, response_body FROM portal_idempotencyrecord")
            digest, token = cursor.fetchone()
        assert "Сидорова" not in digest + token
        assert json.loads(decrypt_text(token)) == ANSWER
    finally:
        _migrate_to_latest()
    client = APIClient()
    client.force_authenticate(registrar_a)
    replay = client.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="create Сидорова")
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == ANSWER
