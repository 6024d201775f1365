"""Field encryption (MultiFernet, newest key first) and keyed blind indexes (HMAC-SHA256).

Blind indexes use their own key, never an encryption key, so a leaked index table reveals
nothing that decrypts, and equal inputs are findable without storing plaintext.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=1)
def get_fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])


@lru_cache(maxsize=1)
def newest_fernet() -> Fernet:
    return Fernet(settings.FIELD_ENCRYPTION_KEYS[0])


@receiver(setting_changed)
def _reset_keys(*, setting, **kwargs):
    if setting in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"):
        get_fernet.cache_clear()
        newest_fernet.cache_clear()


def encrypt_text(value: str) -> str:
    return get_fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    try:
        return get_fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as exc:
        # A token is ASCII: anything else is not one (plaintext awaiting its migration).
        raise DecryptionError("no configured key decrypts this value") from exc


def encrypt_bytes(value: bytes) -> bytes:
    """`value` encrypted as a Fernet token (bytes in, ASCII bytes out: no text round trip)."""
    return get_fernet().encrypt(value)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return get_fernet().decrypt(token)
    except InvalidToken as exc:
        raise DecryptionError("no configured key decrypts this value") from exc


def rotate_token(token: str) -> str:
    """Re-encrypt `token` under the newest key (idempotent for tokens already under it)."""
    return get_fernet().rotate(token.encode("ascii")).decode("ascii")


def is_under_newest_key(token: str) -> bool:
    try:
        newest_fernet().decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def blind_index(kind: str, normalized_value: str) -> str:
    """Keyed, deterministic digest of an already-normalised value, separated by `kind`."""
    message = f"{kind}\x1f{normalized_value}".encode()
    return hmac.new(settings.BLIND_INDEX_KEY, message, hashlib.sha256).hexdigest()


def cache_key(key: str, key_prefix: str, version: int) -> str:
    """The cache's KEY_FUNCTION: every key is stored as a keyed digest.

    Libraries build cache keys from identifiers (allauth's rate limits hash the e-mail with
    plain SHA-256, which a dictionary reverses); keyed, a dump of the store names nobody.
    """
    return f"{key_prefix}:{version}:{blind_index('cache', key)}"
