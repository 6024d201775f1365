"""Keys of the audit seals: HMAC-SHA256 keys from the environment, never from the database.

Each seal records the id of the key it was made with, a fingerprint that names the key without
revealing it. New seals use `AUDIT_SEAL_KEY`; keys listed in `AUDIT_SEAL_RETIRED_KEYS` only
verify the seals made under them, so rotating the key keeps one unbroken chain.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

KEY_ID_LENGTH = 16


def seal_key_id(key: bytes) -> str:
    """A stable name for `key`: an HMAC of a fixed label, so it tells nothing about the key."""
    return hmac.new(key, b"medfront audit seal key id", hashlib.sha256).hexdigest()[:KEY_ID_LENGTH]


def signing_key() -> tuple[str, bytes]:
    """The id and key new seals are made with."""
    key: bytes = settings.AUDIT_SEAL_KEY
    return seal_key_id(key), key


def verification_keys() -> dict[str, bytes]:
    """Every configured key by its id: the signing key and the retired ones."""
    keys: list[bytes] = [settings.AUDIT_SEAL_KEY, *settings.AUDIT_SEAL_RETIRED_KEYS]
    return {seal_key_id(key): key for key in keys}
