"""Model fields whose values are encrypted at rest.

Each value is stored as a Fernet token in a text column. Ciphertexts are randomised, so the
database cannot compare them: only `isnull` lookups are allowed; equality search goes through
blind-index columns (see `portal.crypto.blind_index`).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import models

from portal.crypto import decrypt_text, encrypt_text


class EncryptedFieldMixin:
    """Encrypts on the way to the database and decrypts on the way back."""

    def __init__(self, *args, max_length=None, **kwargs):
        # max_length limits the plaintext (validated by forms and full_clean), not the column.
        self.plaintext_max_length = max_length
        super().__init__(*args, **kwargs)
        if max_length:
            from django.core.validators import MaxLengthValidator

            self.validators.append(MaxLengthValidator(max_length))

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.plaintext_max_length:
            kwargs["max_length"] = self.plaintext_max_length
        return name, path, args, kwargs

    def get_internal_type(self):
        return "TextField"

    def to_plain(self, value):
        return value

    def from_plain(self, value):
        return value

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return None if self.null else value
        return self.from_plain(decrypt_text(value))

    def get_prep_value(self, value):
        value = self.to_python(value)
        if value is None or value == "":
            return None if self.null else ""
        return encrypt_text(self.to_plain(value))

    def get_db_prep_value(self, value, connection, prepared=False):
        return value if prepared else self.get_prep_value(value)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)

    def formfield(self, **kwargs):
        if self.plaintext_max_length:
            kwargs.setdefault("max_length", self.plaintext_max_length)
        return super().formfield(**kwargs)


class EncryptedCharField(EncryptedFieldMixin, models.TextField):
    def formfield(self, **kwargs):
        from django import forms

        kwargs.setdefault("widget", forms.TextInput)
        return super().formfield(**kwargs)


class EncryptedTextField(EncryptedFieldMixin, models.TextField):
    pass


class EncryptedDateField(EncryptedFieldMixin, models.DateField):
    def get_internal_type(self):
        return "TextField"

    def to_plain(self, value: datetime.date) -> str:
        return value.isoformat()

    def from_plain(self, value: str) -> datetime.date:
        return datetime.date.fromisoformat(value)

    def to_python(self, value):
        if isinstance(value, str) and value:
            try:
                return datetime.date.fromisoformat(value)
            except ValueError as exc:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
        return super().to_python(value)

    def pre_save(self, model_instance, add):
        return getattr(model_instance, self.attname)

    def db_type(self, connection):
        return models.TextField().db_type(connection)

    def rel_db_type(self, connection):
        return self.db_type(connection)


class EncryptedJSONField(EncryptedFieldMixin, models.TextField):
    """A JSON document encrypted as one token (for message contexts and similar payloads)."""

    def to_python(self, value):
        return value

    def to_plain(self, value) -> str:
        import json

        from django.core.serializers.json import DjangoJSONEncoder

        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)

    def from_plain(self, value: str):
        import json

        return json.loads(value)
