"""Model fields whose values are encrypted at rest.

Each value is stored as a Fernet token in a text column. Ciphertexts are randomised, so the
database cannot compare them: only `isnull` lookups are allowed; equality search goes through
blind-index columns (see `portal.crypto.blind_index`).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.db.models.lookups import Lookup

from portal.crypto import decrypt_text, encrypt_text

# Value types for setting and getting (django-stubs' generic fields, "How to type a custom
# models.Field?"); subscripting fields at run time needs `django_stubs_ext.monkeypatch()`.
_ST = TypeVar("_ST", contravariant=True)
_GT = TypeVar("_GT", covariant=True)
_JSONObject = dict[str, Any]


class EncryptedFieldMixin(models.Field[_ST, _GT]):
    """Encrypts on the way to the database and decrypts on the way back.

    A Field subclass only so that type checkers know what `super()` is; it comes first in each
    concrete field's bases, so the method order is that of the concrete field.
    """

    def __init__(self, *args: Any, max_length: int | None = None, **kwargs: Any) -> None:
        # max_length limits the plaintext (validated by forms and full_clean), not the column.
        self.plaintext_max_length = max_length
        super().__init__(*args, **kwargs)
        if max_length:
            self.validators.append(MaxLengthValidator(max_length))

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if self.plaintext_max_length:
            kwargs["max_length"] = self.plaintext_max_length
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "TextField"

    def to_plain(self, value: Any) -> str:
        # `get_prep_value` has run `to_python`, so text fields hand over a str here.
        return value

    def from_plain(self, value: str) -> Any:
        return value

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> Any:
        if value is None or value == "":
            return None if self.null else value
        return self.from_plain(decrypt_text(value))

    def get_prep_value(self, value: Any) -> Any:
        value = self.to_python(value)
        if value is None or value == "":
            return None if self.null else ""
        return encrypt_text(self.to_plain(value))

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        return value if prepared else self.get_prep_value(value)

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        if self.plaintext_max_length:
            kwargs.setdefault("max_length", self.plaintext_max_length)
        # Passed on only when given: None would override the base field's own form class.
        if form_class is not None:
            kwargs["form_class"] = form_class
        if choices_form_class is not None:
            kwargs["choices_form_class"] = choices_form_class
        return super().formfield(**kwargs)


class EncryptedCharField(EncryptedFieldMixin[_ST, _GT], models.TextField[_ST, _GT]):
    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        kwargs.setdefault("widget", forms.TextInput)
        return super().formfield(form_class, choices_form_class, **kwargs)


class EncryptedTextField(EncryptedFieldMixin[_ST, _GT], models.TextField[_ST, _GT]):
    pass


class EncryptedDateField(EncryptedFieldMixin[_ST, _GT], models.DateField[_ST, _GT]):
    def get_internal_type(self) -> str:
        return "TextField"

    def to_plain(self, value: datetime.date) -> str:
        return value.isoformat()

    def from_plain(self, value: str) -> datetime.date:
        return datetime.date.fromisoformat(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value:
            try:
                return datetime.date.fromisoformat(value)
            except ValueError as exc:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
        return super().to_python(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        return getattr(model_instance, self.attname)

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        return models.TextField().db_type(connection)

    def rel_db_type(self, connection):
        return self.db_type(connection)


class EncryptedJSONField(
    EncryptedFieldMixin[_JSONObject, _JSONObject], models.TextField[_JSONObject, _JSONObject]
):
    """A JSON object encrypted as one token (for message contexts and similar payloads)."""

    def to_python(self, value: Any) -> Any:
        return value

    def to_plain(self, value: _JSONObject) -> str:
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)

    def from_plain(self, value: str) -> Any:
        return json.loads(value)
