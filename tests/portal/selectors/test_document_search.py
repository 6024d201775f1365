"""Finding a patient by an ID document number typed in any spacing, through its blind index."""

import pytest
from django.core.exceptions import ValidationError

from portal.forms.staff_patients import PatientSearchForm
from portal.models import Patient
from portal.models.patients import document_index
from portal.selectors.patients import patient_search
from portal.services.blind_indexes import blind_indexes_refresh
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def search(user, text):
    form = PatientSearchForm({"q": text})
    assert form.is_valid(), form.errors
    return patient_search(user=user, **form.criteria())


@pytest.fixture
def holder(db):
    return PatientFactory(
        id_document_type="passport_ru", id_document_number="4510 123456", phone="+79145550000"
    )


@pytest.mark.parametrize("typed", ["4510 123456", "4510123456", "45 10 123456", "4510-123456"])
def test_a_passport_number_is_found_in_any_spacing(registrar_a, holder, typed):
    assert search(registrar_a, typed) == [holder]


def test_a_number_with_letters_is_found_after_a_numero_sign(registrar_a):
    foreign = PatientFactory(id_document_type="foreign_passport", id_document_number="ab 1234567")
    assert search(registrar_a, "№ AB1234567") == [foreign]
    assert search(registrar_a, "#ab-1234567") == [foreign]


def test_digits_still_find_a_phone(registrar_a, holder):
    assert search(registrar_a, "8 914 555-00-00") == [holder]


def test_too_few_digits_are_a_phone_error_not_a_search(registrar_a):
    form = PatientSearchForm({"q": "12"})
    assert form.is_valid()
    with pytest.raises(ValidationError) as caught:
        patient_search(user=registrar_a, **form.criteria())
    assert "phone" in caught.value.message_dict


def test_the_index_is_a_keyed_digest_kept_in_step_and_refilled(holder):
    stored = Patient.objects.filter(pk=holder.pk).values_list("document_bidx", flat=True).get()
    assert stored == document_index("4510123456") and "123456" not in stored
    Patient.objects.filter(pk=holder.pk).update(document_bidx="")
    assert blind_indexes_refresh() == 1
    holder.refresh_from_db()
    assert holder.document_bidx == stored
    holder.id_document_number = ""
    holder.save()
    assert holder.document_bidx == ""
