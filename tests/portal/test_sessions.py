"""Sessions are encrypted at rest with the profile's keys (`portal.sessions`)."""

import datetime
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from portal.crypto import is_under_newest_key
from portal.services.encryption import encryption_rotate_sessions
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PHONE = "+79145550011"


class _Raw:
    """A signing serializer that hands back the signed payload itself."""

    def dumps(self, obj):
        return obj

    def loads(self, data):
        return data


def _payload(session_data: str) -> bytes:
    """What the signature covers: for an encrypted session, a token; before, plain JSON."""
    return signing.loads(session_data, salt=SessionStore().key_salt, serializer=_Raw)


def _legacy_session_data(data: dict) -> str:
    """Session data as Django's plain JSON serializer wrote it before encryption."""
    return signing.dumps(
        data, salt=SessionStore().key_salt, serializer=signing.JSONSerializer, compress=True
    )


def test_a_stored_session_is_a_token_that_decodes_to_the_session(patient):
    client = client_for(patient.user)
    session = client.session
    session["medfront_pending_phone"] = {"phone": PHONE}
    session.save()
    row = Session.objects.get(session_key=session.session_key)
    payload = _payload(row.session_data)
    assert payload.startswith(b"gAAAA")
    assert PHONE.encode() not in payload
    assert b"_auth_user_id" not in payload
    assert is_under_newest_key(payload.decode())
    assert row.get_decoded()["medfront_pending_phone"] == {"phone": PHONE}
    # The session still signs its user in.
    assert client.get("/me/").status_code == 200


def test_plain_sessions_of_the_previous_release_are_read_then_encrypted():
    data = _legacy_session_data({"_auth_user_id": "1", "phone": PHONE})
    assert PHONE.encode() in _payload(data)
    expires = timezone.now() + datetime.timedelta(days=1)
    Session.objects.create(session_key="legacy" * 5, session_data=data, expire_date=expires)
    Session.objects.create(
        session_key="expired" * 5,
        session_data=data,
        expire_date=timezone.now() - datetime.timedelta(seconds=1),
    )
    assert Session.objects.get(session_key="legacy" * 5).get_decoded()["phone"] == PHONE

    # What migration 0005 runs.
    assert encryption_rotate_sessions() == 1

    row = Session.objects.get()
    assert row.session_key == "legacy" * 5
    assert _payload(row.session_data).startswith(b"gAAAA")
    assert row.get_decoded() == {"_auth_user_id": "1", "phone": PHONE}
    assert row.expire_date == expires


def test_key_rotation_re_encrypts_sessions_and_a_dropped_key_signs_out(patient):
    client = client_for(patient.user)
    key = client.session.session_key
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, *settings.FIELD_ENCRYPTION_KEYS]):
        out = StringIO()
        call_command("rotate_encryption_keys", "--no-progress", stdout=out)
        assert "sessions: re-encrypted 1 live sessions." in out.getvalue()
        token = _payload(Session.objects.get(session_key=key).session_data).decode()
        assert is_under_newest_key(token)
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert client.get("/me/").status_code == 200
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        # No configured key decrypts it: Django starts an empty session (signed out).
        assert client.get("/me/").status_code == 302
