"""Idempotency records keep no personal data.

The client's key becomes its HMAC digest (`key_digest`), the request hash becomes keyed (the
HMAC of the old SHA-256, which is how `request_fingerprint` computes it now, so replays of
records already there still match), and the stored answer is encrypted. Reversing decrypts
the answers; the keys stay digests (a key used before the downgrade is not recognised by the
previous release, and records live 24 hours).
"""

from django.db import migrations, models

import portal.fields


def hash_keys(apps, schema_editor):
    from portal.crypto import blind_index

    record_model = apps.get_model("portal", "IdempotencyRecord")
    rows = record_model._base_manager.values_list("pk", "key", "request_hash")
    for pk, key, request_hash in rows.iterator():
        record_model._base_manager.filter(pk=pk).update(
            key=blind_index("idempotency-key", key),
            request_hash=blind_index("idempotency-request", request_hash),
        )


def encrypt_answers(apps, schema_editor):
    from portal.services.encryption import encryption_encrypt_plaintext

    record_model = apps.get_model("portal", "IdempotencyRecord")
    encryption_encrypt_plaintext(model=record_model, field_names=["response_body"])


def decrypt_answers(apps, schema_editor):
    from portal.services.encryption import encryption_decrypt_to_plaintext

    record_model = apps.get_model("portal", "IdempotencyRecord")
    encryption_decrypt_to_plaintext(model=record_model, field_names=["response_body"])


class Migration(migrations.Migration):
    dependencies = [("portal", "0006_encrypt_sessions")]

    operations = [
        migrations.RemoveConstraint(model_name="idempotencyrecord", name="idempotency_unique"),
        migrations.RunPython(hash_keys, migrations.RunPython.noop),
        migrations.RenameField(
            model_name="idempotencyrecord", old_name="key", new_name="key_digest"
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="key_digest",
            field=models.CharField(max_length=64),
        ),
        migrations.AddConstraint(
            model_name="idempotencyrecord",
            constraint=models.UniqueConstraint(
                fields=("user_id", "route", "key_digest"), name="idempotency_unique"
            ),
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="response_body",
            field=portal.fields.EncryptedJSONField(blank=True, null=True),
        ),
        migrations.RunPython(encrypt_answers, decrypt_answers),
    ]
