"""Secrets from the environment, `*_FILE` paths, or (DEBUG only) a generated development file.

Every secret is validated here so that a missing or malformed value stops start-up with a
message naming the setting, instead of failing on the first request that needs it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

SECRET_NAMES = ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "AUDIT_SEAL_KEY")


def read_secret(name: str) -> str | None:
    """Return `name` from the environment, or the content of the file named by `name_FILE`."""
    value = os.environ.get(name)
    if value:
        return value.strip()
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points to an unreadable file: {exc}") from exc
    return None


def generate_development_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_hex(32),
        "AUDIT_SEAL_KEY": secrets.token_hex(32),
    }


def load_development_secrets(path: Path) -> dict[str, str]:
    """Read the git-ignored development key file, creating it once if it does not exist.

    A key added in a later version is generated into an existing file; the keys already there
    are kept, so data encrypted and sealed under them stays readable.
    """
    values = json.loads(path.read_text()) if path.exists() else {}
    missing = {k: v for k, v in generate_development_secrets().items() if k not in values}
    if missing:
        values.update(missing)
        path.write_text(json.dumps(values, indent=2))
        path.chmod(0o600)
    return values


def validate_secret_key(value: str | None) -> str:
    if not value:
        raise ImproperlyConfigured("SECRET_KEY is not set (set SECRET_KEY or SECRET_KEY_FILE).")
    if len(value) < 50 or len(set(value)) < 5 or value.startswith("django-insecure"):
        raise ImproperlyConfigured("SECRET_KEY is too weak: use at least 50 random characters.")
    return value


def validate_field_encryption_keys(value: str | None) -> list[str]:
    if not value:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is not set: give one or more Fernet keys, newest first, "
            "separated by commas."
        )
    keys = [key.strip() for key in value.split(",") if key.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, binascii.Error) as exc:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from exc
    return keys


def validate_blind_index_key(value: str | None, encryption_keys: list[str]) -> bytes:
    if not value:
        raise ImproperlyConfigured("BLIND_INDEX_KEY is not set (64 hex characters).")
    try:
        key = bytes.fromhex(value)
    except ValueError:
        try:
            key = base64.urlsafe_b64decode(value)
        except (ValueError, binascii.Error) as exc:
            raise ImproperlyConfigured("BLIND_INDEX_KEY must be hex or base64.") from exc
    if len(key) < 32:
        raise ImproperlyConfigured("BLIND_INDEX_KEY must hold at least 32 bytes.")
    if value in encryption_keys:
        raise ImproperlyConfigured("BLIND_INDEX_KEY must differ from every encryption key.")
    return key


def _key_bytes(name: str, value: str) -> bytes:
    """A key given as hex or base64, at least 32 bytes."""
    try:
        key = bytes.fromhex(value)
    except ValueError:
        try:
            key = base64.urlsafe_b64decode(value)
        except (ValueError, binascii.Error) as exc:
            raise ImproperlyConfigured(f"{name} must be hex or base64.") from exc
    if len(key) < 32:
        raise ImproperlyConfigured(f"{name} must hold at least 32 bytes.")
    return key


def validate_audit_seal_key(value: str | None, *, other_secrets: list[str | bytes]) -> bytes:
    """The HMAC key of new audit seals. It must differ from every other secret: a seal key
    shared with, say, the blind index would let whoever holds that key forge seals."""
    if not value:
        raise ImproperlyConfigured(
            "AUDIT_SEAL_KEY is not set (64 hex characters; set AUDIT_SEAL_KEY or "
            "AUDIT_SEAL_KEY_FILE)."
        )
    key = _key_bytes("AUDIT_SEAL_KEY", value)
    if value in other_secrets or key in other_secrets:
        raise ImproperlyConfigured("AUDIT_SEAL_KEY must differ from every other key and secret.")
    return key


def validate_audit_seal_retired_keys(value: str | None) -> list[bytes]:
    """Earlier seal keys, kept only to verify the seals made under them."""
    if not value:
        return []
    return [
        _key_bytes(f"AUDIT_SEAL_RETIRED_KEYS: key #{position}", key.strip())
        for position, key in enumerate((k for k in value.split(",") if k.strip()), start=1)
    ]
