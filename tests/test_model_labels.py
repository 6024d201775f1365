"""Every model of the project names itself and each of its fields in words, translated: the
admin and model forms show these names, so none may fall back to the raw field name."""

import re

from django.apps import apps
from django.db.models import Field
from django.utils import translation
from django.utils.functional import Promise

PROJECT_APPS = {"portal", "scheduling", "notifications", "telephony", "crm", "analytics"}
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def project_models():
    return [model for model in apps.get_models() if model._meta.app_label in PROJECT_APPS]


def own_fields(model) -> list[Field]:
    """Concrete fields and many-to-many fields; reverse relations are named by the other side."""
    return [
        field
        for field in model._meta.get_fields()
        if isinstance(field, Field) and not field.auto_created
    ]


def test_the_project_has_models_to_check():
    assert len(project_models()) > 30


def test_every_field_has_a_translated_verbose_name():
    # Django names a field without a verbose name by its attribute, as a plain (untranslated)
    # string: "public_id" becomes "public id".
    with translation.override("ru"):
        unnamed = [
            f"{model._meta.label}.{field.name}"
            for model in project_models()
            for field in own_fields(model)
            if not isinstance(field.verbose_name, Promise)
            or str(field.verbose_name) == field.name.replace("_", " ")
        ]
    assert unnamed == []


def test_every_field_is_named_in_russian():
    with translation.override("ru"):
        not_russian = [
            f"{model._meta.label}.{field.name}: {field.verbose_name}"
            for model in project_models()
            for field in own_fields(model)
            if not CYRILLIC.search(str(field.verbose_name))
        ]
    assert not_russian == []


def test_every_model_has_a_russian_name_and_a_real_plural():
    # Without its own plural Django appends an "s" to the translated name ("записьs").
    with translation.override("ru"):
        wrong = [
            f"{model._meta.label}: {model._meta.verbose_name} / {model._meta.verbose_name_plural}"
            for model in project_models()
            if not CYRILLIC.search(str(model._meta.verbose_name))
            or not CYRILLIC.search(str(model._meta.verbose_name_plural))
            or str(model._meta.verbose_name_plural).endswith("s")
            or str(model._meta.verbose_name_plural) == str(model._meta.verbose_name)
        ]
    assert wrong == []


def test_choices_of_every_field_are_translated():
    with translation.override("ru"):
        untranslated = [
            f"{model._meta.label}.{field.name}: {label}"
            for model in project_models()
            for field in own_fields(model)
            for _value, label in field.flatchoices
            if not CYRILLIC.search(str(label))
            and str(label) not in {"API", "SMS", "English", "Telegram"}
        ]
    assert untranslated == []
