import time
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue
from portal.crypto import is_under_newest_key
from portal.models import FamilyLink, IdempotencyRecord, MaintenanceCheckpoint, Patient, User
from portal.selectors.patients import patient_search
from portal.services.encryption import (
    checkpoint_name,
    encrypted_models,
    encryption_rotate_model,
)
from scheduling.models import (
    Appointment,
    AppointmentEvent,
    RollbackRecord,
    ScheduleException,
    Substitution,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NEW_KEY = Fernet.generate_key().decode()


def _raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def _rotate(**options):
    out = StringIO()
    call_command("rotate_encryption_keys", "--no-progress", stdout=out, **options)
    return out.getvalue()


def test_it_discovers_every_model_with_encrypted_fields():
    found = {model: {f.name for f in fields} for model, fields in encrypted_models()}
    assert set(Patient.PII_FIELDS) <= found[Patient]
    assert found[User] == {"display_name"}
    assert found[FamilyLink] == {"basis_document"}
    assert {"to_address", "context", "subject", "body"} <= found[OutboxMessage]
    # Stored answers of idempotent POSTs (a created patient's profile).
    assert found[IdempotencyRecord] == {"response_body"}
    # Free text of the booking engine: reasons and schedule notes.
    assert found[Appointment] == {"cancel_reason"}
    assert found[AppointmentEvent] == {"reason"}
    assert found[RollbackRecord] == {"reason"}
    assert found[ScheduleException] == {"note"}
    assert found[Substitution] == {"note"}


def test_after_rotation_the_old_key_can_go_and_the_patient_is_still_found_by_phone(
    patient, registrar_a
):
    patient.notes = "Аллергия на пенициллин"
    patient.save()
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, *old_keys]):
        output = _rotate(batch_size=1)
        token = _raw("portal_patient", "last_name", patient.pk)
        assert is_under_newest_key(token)
        assert "Rotation done." in output
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        found = patient_search(user=registrar_a, phone=patient.phone)
        assert [p.pk for p in found] == [patient.pk]
        fresh = Patient.objects.get(pk=patient.pk)
        assert fresh.last_name == "Иванова"
        assert fresh.notes == "Аллергия на пенициллин"
        assert fresh.birth_date == patient.birth_date
        assert fresh.user.email == patient.user.email


def test_rotation_covers_other_apps_encrypted_columns(patient):
    message = outbox_enqueue(
        event="test.hello", channel="sms", patient=patient, context={"name": "Анна"}
    )
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]):
        _rotate()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        fresh = OutboxMessage.objects.get(pk=message.pk)
        assert fresh.to_address == patient.phone
        assert fresh.context == {"name": "Анна"}


def test_a_dry_run_counts_and_writes_nothing(patient):
    before = _raw("portal_patient", "phone", patient.pk)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]):
        output = _rotate(dry_run=True)
    assert _raw("portal_patient", "phone", patient.pk) == before
    assert "portal.Patient" in output and "would rotate" in output
    assert not MaintenanceCheckpoint.objects.exists()


def test_an_interrupted_run_resumes_after_its_checkpoint():
    patients = PatientFactory.create_batch(5)
    fields = dict(encrypted_models())[Patient]

    class Interrupted(Exception):
        pass

    def stop_after_two_batches(rows, calls=[]):  # noqa: B006 - a counter local to this test
        calls.append(rows)
        if len(calls) == 2:
            raise Interrupted

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]):
        with pytest.raises(Interrupted):
            encryption_rotate_model(
                model=Patient, fields=fields, batch_size=2, on_batch=stop_after_two_batches
            )
        checkpoint = MaintenanceCheckpoint.objects.get(name=checkpoint_name(Patient))
        assert checkpoint.position == patients[3].pk
        rotated = [is_under_newest_key(_raw("portal_patient", "phone", p.pk)) for p in patients]
        assert rotated == [True, True, True, True, False]

        resumed = encryption_rotate_model(model=Patient, fields=fields, batch_size=2)
        assert resumed.rows_seen == 1  # only the row after the checkpoint was read again
        assert resumed.rows_rotated == 1
        assert all(is_under_newest_key(_raw("portal_patient", "phone", p.pk)) for p in patients)

        # A re-run from scratch finds nothing left to rewrite.
        again = encryption_rotate_model(model=Patient, fields=fields, restart=True)
        assert (again.rows_seen, again.rows_rotated) == (5, 0)


def test_it_reports_values_no_key_decrypts_without_printing_them(patient):
    # The old key is already gone, so nothing stored can be decrypted.
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(CommandError) as excinfo:
        _rotate()
    message = str(excinfo.value)
    assert "could not be decrypted" in message
    assert f"portal.Patient.last_name pk={patient.pk}" in message
    assert "Иванова" not in message


def test_batch_size_must_be_positive():
    with pytest.raises(CommandError):
        _rotate(batch_size=0)


def test_progress_bars_go_to_the_commands_stderr_as_drawn(patient):
    out, err = StringIO(), StringIO()
    call_command("rotate_encryption_keys", "--dry-run", stdout=out, stderr=err)
    progress = err.getvalue()
    assert "portal.Patient" in progress
    assert "row" in progress
    # tqdm redraws a bar in place; OutputWrapper would have ended each redraw with a newline.
    assert progress.count("\n") < progress.count("\r")
    assert "Dry run finished." in out.getvalue()


def test_authenticator_secrets_are_rotated_and_still_work(registrar_a):
    """TOTP secrets and recovery-code seeds sit encrypted inside allauth's JSON column."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import (
        TOTP,
        format_hotp_value,
        generate_totp_secret,
        hotp_value,
    )

    secret = generate_totp_secret()
    totp = TOTP.activate(registrar_a, secret).instance
    codes = RecoveryCodes.activate(registrar_a)
    unused = codes.get_unused_codes()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]):
        output = _rotate()
    assert f"{Authenticator._meta.label} (data): 2 rows checked, rotated 2 values in 2" in output
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        fresh = Authenticator.objects.get(pk=totp.pk)
        assert is_under_newest_key(fresh.data["secret"])
        assert secret not in str(fresh.data)
        code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
        assert TOTP(fresh).validate_code(code)
        recovery = Authenticator.objects.get(pk=codes.instance.pk)
        assert RecoveryCodes(recovery).get_unused_codes() == unused
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]):
        again = _rotate()  # a second run has nothing to do
    assert f"{Authenticator._meta.label} (data): 2 rows checked, rotated 0 values" in again
