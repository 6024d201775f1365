"""Session data encrypted at rest (`SESSION_SERIALIZER`).

A session holds what allauth and the portal keep between two requests: a pending sign-in code's
phone or e-mail, a phone waiting for onboarding, the stashed sign-up. Django only signs session
data (base64 of JSON, readable by anyone who reads the `django_session` table or the cache), so
this serializer encrypts the JSON with the profile's keys (`FIELD_ENCRYPTION_KEYS`, newest
first). Sessions under a key that was dropped no longer decrypt: Django then starts an empty
session, which signs the user out. `manage.py rotate_encryption_keys` re-encrypts stored
sessions with the rest.
"""

from __future__ import annotations

import json
from typing import Any

from portal.crypto import decrypt_text, encrypt_text

# Fernet tokens are URL-safe base64 of a version byte 0x80: they never start with "{".
_LEGACY_JSON_START = b"{"


class EncryptedJSONSerializer:
    """Django's JSON session serializer with the JSON encrypted (MultiFernet)."""

    def dumps(self, obj: Any) -> bytes:
        text = json.dumps(obj, separators=(",", ":"))
        return encrypt_text(text).encode("ascii")

    def loads(self, data: bytes) -> Any:
        if data.startswith(_LEGACY_JSON_START):
            # Written by Django's plain JSONSerializer before sessions were encrypted (or by a
            # process of the previous release during a rolling deploy); the portal's data
            # migration 0006 re-encrypts such rows.
            return json.loads(data.decode("latin-1"))
        # A DecryptionError (no configured key) makes Django start an empty session.
        return json.loads(decrypt_text(data.decode("ascii")))
