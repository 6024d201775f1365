"""Free text encrypted at rest: cancellation and rollback reasons, schedule notes.

The columns become text (a token is longer than the 300 characters the plaintext may have),
then the rows already there are encrypted with the profile's keys; reversing decrypts them
before the columns shrink back.
"""

from django.db import migrations

import portal.fields

COLUMNS = {
    "appointment": ["cancel_reason"],
    "appointmentevent": ["reason"],
    "rollbackrecord": ["reason"],
    "scheduleexception": ["note"],
    "substitution": ["note"],
}


def encrypt_existing(apps, schema_editor):
    from portal.services.encryption import encryption_encrypt_plaintext

    for model_name, fields in COLUMNS.items():
        model = apps.get_model("scheduling", model_name)
        encryption_encrypt_plaintext(model=model, field_names=fields)


def decrypt_existing(apps, schema_editor):
    from portal.services.encryption import encryption_decrypt_to_plaintext

    for model_name, fields in COLUMNS.items():
        model = apps.get_model("scheduling", model_name)
        encryption_decrypt_to_plaintext(model=model, field_names=fields)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0008_visit_documents"),
    ]

    operations = [
        migrations.AlterField(
            model_name="appointment",
            name="cancel_reason",
            field=portal.fields.EncryptedCharField(
                blank=True, max_length=300, verbose_name="cancellation reason"
            ),
        ),
        migrations.AlterField(
            model_name="appointmentevent",
            name="reason",
            field=portal.fields.EncryptedCharField(blank=True, max_length=300),
        ),
        migrations.AlterField(
            model_name="rollbackrecord",
            name="reason",
            field=portal.fields.EncryptedCharField(blank=True, max_length=300),
        ),
        migrations.AlterField(
            model_name="scheduleexception",
            name="note",
            field=portal.fields.EncryptedCharField(blank=True, max_length=200, verbose_name="note"),
        ),
        migrations.AlterField(
            model_name="substitution",
            name="note",
            field=portal.fields.EncryptedCharField(blank=True, max_length=200, verbose_name="note"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
