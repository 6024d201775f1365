"""Encrypt the sessions stored before `SESSION_SERIALIZER` encrypted them.

Sessions written by Django's plain JSON serializer (base64 of readable JSON, holding pending
sign-in phones and e-mails) are read and written again encrypted; expired ones are deleted.
Reversing leaves the rows encrypted: the previous release cannot read them and starts empty
sessions (its users sign in again), which loses nothing else.
"""

from django.db import migrations


def encrypt_sessions(apps, schema_editor):
    from portal.services.encryption import encryption_rotate_sessions

    encryption_rotate_sessions(session_model=apps.get_model("sessions", "Session"))


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0005_audit_seal_key_id"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(encrypt_sessions, migrations.RunPython.noop)]
