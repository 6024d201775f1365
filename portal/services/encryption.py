"""Re-encrypting stored values under the newest key of `FIELD_ENCRYPTION_KEYS`.

Raw tokens are read and written as text, bypassing the fields' decrypt/encrypt, so each value
is decrypted and encrypted exactly once (`rotate_token`). Blind indexes use their own key and
are untouched. Work goes in primary-key batches; each batch commits with a checkpoint, so an
interrupted run resumes where it stopped, and rows already under the newest key are skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import models, transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from portal.crypto import (
    DecryptionError,
    decrypt_text,
    encrypt_text,
    is_under_newest_key,
    rotate_token,
)
from portal.fields import EncryptedFieldMixin
from portal.models import MaintenanceCheckpoint


@dataclass
class RotationResult:
    """Counts for one model; `failed` names (field, pk) pairs no configured key decrypts."""

    label: str
    rows_seen: int = 0
    rows_rotated: int = 0
    values_rotated: int = 0
    failed: list[tuple[str, object]] = field(default_factory=list)


def encrypted_models() -> list[tuple[type[models.Model], list[EncryptedFieldMixin[Any, Any]]]]:
    """Every concrete model with encrypted columns, and those columns, in app order."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        fields = [f for f in meta.concrete_fields if isinstance(f, EncryptedFieldMixin)]
        if fields:
            found.append((model, fields))
    return found


def newest_key_id() -> str:
    """A short, non-secret name of the newest key, so checkpoints belong to one rotation."""
    # Fernet takes bytes keys as well as text ones.
    key: str | bytes = settings.FIELD_ENCRYPTION_KEYS[0]
    raw = key.encode() if isinstance(key, str) else key
    return hashlib.sha256(b"medfront-key-id:" + raw).hexdigest()[:12]


def checkpoint_name(model: type[models.Model]) -> str:
    return f"rotate_encryption_keys:{model._meta.label_lower}:{newest_key_id()}"


def rotation_start(model: type[models.Model], *, restart: bool = False) -> int:
    """The primary key after which a (resumed) rotation of `model` continues."""
    if restart:
        return 0
    return (
        MaintenanceCheckpoint.objects.filter(name=checkpoint_name(model))
        .values_list("position", flat=True)
        .first()
        or 0
    )


def encryption_rotate_model(
    *,
    model: type[models.Model],
    fields: Sequence[models.Field[Any, Any]],
    batch_size: int = 500,
    dry_run: bool = False,
    restart: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> RotationResult:
    """Re-encrypt `fields` of every row of `model` under the newest key, batch by batch.

    Invariants: a value is only ever replaced by a token of the same plaintext; each batch locks
    its rows (SELECT ... FOR UPDATE on PostgreSQL), so a concurrent edit is never overwritten by
    a stale token; the checkpoint advances in the same transaction as the batch it covers.
    `on_batch(rows)` is called after each committed batch (progress bars, tests).
    """
    result = RotationResult(label=model._meta.label)
    name = checkpoint_name(model)
    position = rotation_start(model, restart=restart)
    pk_name = model._meta.pk.attname
    # Cast to text: read the stored token itself, not the field's decrypted value.
    raw = {f"raw_{f.attname}": Cast(f.attname, output_field=TextField()) for f in fields}
    while True:
        with transaction.atomic():
            qs = model._base_manager.filter(pk__gt=position).order_by("pk")
            if not dry_run:
                qs = qs.select_for_update()
            rows = list(qs.annotate(**raw).values_list(pk_name, *raw)[:batch_size])
            if not rows:
                break
            changed = _rotate_rows(model, fields, rows, result)
            if changed and not dry_run:
                model._base_manager.bulk_update(changed, [f.attname for f in fields])
            position = rows[-1][0]
            if not dry_run:
                MaintenanceCheckpoint.objects.update_or_create(
                    name=name, defaults={"position": position}
                )
        if on_batch:
            on_batch(len(rows))
    return result


def _rotate_rows(
    model: type[models.Model],
    fields: Sequence[models.Field[Any, Any]],
    rows: list[tuple[Any, ...]],
    result: RotationResult,
) -> list[models.Model]:
    """Unsaved stand-ins carrying rotated raw tokens (as text Values) for rows that need it."""
    changed = []
    for pk, *tokens in rows:
        result.rows_seen += 1
        stand_in = model(pk=pk)
        needs_write = False
        for f, token in zip(fields, tokens, strict=True):
            value = token
            if token and not is_under_newest_key(token):
                try:
                    value = rotate_token(token)
                except Exception:  # noqa: BLE001 - InvalidToken; reported, never logged with data
                    result.failed.append((f.name, pk))
                else:
                    needs_write = True
                    result.values_rotated += 1
            # Every listed field is written, so unchanged ones get their own raw token back.
            setattr(stand_in, f.attname, Value(value, output_field=TextField()))
        if needs_write:
            result.rows_rotated += 1
            changed.append(stand_in)
    return changed


def encryption_rotate_sessions(
    *, session_model: type[models.Model] | None = None, batch_size: int = 500
) -> int:
    """Write every live database session again, encrypted under the newest key; returns how
    many. Expired sessions are deleted instead (nothing will read them again).

    Sessions are encrypted by `portal.sessions.EncryptedJSONSerializer`, which also reads the
    plain JSON of sessions written before it, so this both rotates keys and encrypts legacy
    rows. A session no configured key decrypts decodes as empty and is written back empty:
    its user is signed out, as they would be on their next request. `session_model` is the
    migration's historical model; by default Django's own.
    """
    if session_model is None:
        from django.contrib.sessions.models import Session

        session_model = Session
    manager = session_model._base_manager
    now = timezone.now()
    manager.filter(expire_date__lte=now).delete()
    store = SessionStore()
    written = 0
    position = ""
    while True:
        with transaction.atomic():
            rows = list(
                manager.filter(session_key__gt=position, expire_date__gt=now)
                .order_by("session_key")
                .values_list("session_key", "session_data")[:batch_size]
            )
            if not rows:
                break
            for key, data in rows:
                manager.filter(session_key=key).update(
                    session_data=store.encode(store.decode(data))
                )
            written += len(rows)
            position = rows[-1][0]
    return written


# Values of allauth's authenticator data that its MFA adapter encrypts (`MFAAdapter.encrypt`):
# the TOTP secret, the recovery-code seed and recovery codes migrated from elsewhere.
AUTHENTICATOR_ENCRYPTED_KEYS = ("secret", "seed")
AUTHENTICATOR_ENCRYPTED_LISTS = ("migrated_codes",)


def encryption_rotate_authenticators(*, batch_size: int = 500) -> RotationResult:
    """Re-encrypt the secrets in allauth's authenticators under the newest key.

    They live inside a JSON column, so the column-wise rotation does not see them. Each batch
    locks its rows; a value no configured key decrypts is reported, never changed.
    """
    result = RotationResult(label=Authenticator._meta.label)
    position = 0
    while True:
        with transaction.atomic():
            rows = list(
                Authenticator.objects.filter(pk__gt=position)
                .order_by("pk")
                .select_for_update()[:batch_size]
            )
            if not rows:
                break
            for authenticator in rows:
                result.rows_seen += 1
                if _rotate_authenticator_data(authenticator, result):
                    result.rows_rotated += 1
                    authenticator.save(update_fields=["data"])
            position = rows[-1].pk
    return result


def _rotate_authenticator_data(authenticator: Authenticator, result: RotationResult) -> bool:
    data = authenticator.data or {}
    changed = False

    def rotated(token: str) -> str:
        nonlocal changed
        if not token or is_under_newest_key(token):
            return token
        try:
            new = rotate_token(token)
        except Exception:  # noqa: BLE001 - InvalidToken; reported, never logged with data
            result.failed.append(("data", authenticator.pk))
            return token
        changed = True
        result.values_rotated += 1
        return new

    for key in AUTHENTICATOR_ENCRYPTED_KEYS:
        if isinstance(data.get(key), str):
            data[key] = rotated(data[key])
    for key in AUTHENTICATOR_ENCRYPTED_LISTS:
        if isinstance(data.get(key), list):
            data[key] = [rotated(code) for code in data[key]]
    return changed


def encryption_encrypt_plaintext(
    *, model: type[models.Model], field_names: Sequence[str], batch_size: int = 500
) -> int:
    """Encrypt the values of `field_names` still stored as plaintext; returns how many.

    For data migrations that turn a plain column into an encrypted one (`model` is then the
    migration's historical model). A value that already decrypts is left alone, so a re-run
    changes nothing.
    """

    def encrypt(value: str) -> str:
        try:
            decrypt_text(value)
        except DecryptionError:
            return encrypt_text(value)
        return value

    return _rewrite_raw_values(model, field_names, encrypt, batch_size)


def encryption_decrypt_to_plaintext(
    *, model: type[models.Model], field_names: Sequence[str], batch_size: int = 500
) -> int:
    """The reverse of `encryption_encrypt_plaintext`, for reversing such a migration."""

    def decrypt(value: str) -> str:
        try:
            return decrypt_text(value)
        except DecryptionError:
            return value

    return _rewrite_raw_values(model, field_names, decrypt, batch_size)


def _rewrite_raw_values(
    model: type[models.Model],
    field_names: Sequence[str],
    transform: Callable[[str], str],
    batch_size: int,
) -> int:
    """Apply `transform` to the stored text of non-empty values, in primary-key batches."""
    concrete = {f.name: f for f in model._meta.concrete_fields}
    fields = [concrete[name] for name in field_names]
    raw = {f"raw_{f.attname}": Cast(f.attname, output_field=TextField()) for f in fields}
    manager = model._base_manager
    pk_name = model._meta.pk.attname
    position: Any = None
    changed_values = 0
    while True:
        with transaction.atomic():
            qs = manager.order_by("pk")
            if position is not None:
                qs = qs.filter(pk__gt=position)
            rows = list(qs.annotate(**raw).values_list(pk_name, *raw)[:batch_size])
            if not rows:
                break
            changed = []
            for pk, *values in rows:
                stand_in = model(pk=pk)
                needs_write = False
                for f, value in zip(fields, values, strict=True):
                    new = transform(value) if value else value
                    needs_write = needs_write or new != value
                    changed_values += new != value
                    # Every listed field is written; unchanged ones get their own text back.
                    setattr(stand_in, f.attname, Value(new, output_field=TextField()))
                if needs_write:
                    changed.append(stand_in)
            if changed:
                manager.bulk_update(changed, [f.attname for f in fields])
            position = rows[-1][0]
    return changed_values
