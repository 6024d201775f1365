import pytest
from django.utils import timezone

from portal.services.patients import patient_update

pytestmark = pytest.mark.django_db


def test_changing_the_phone_clears_its_verification(patient):
    patient.phone_verified_at = timezone.now()
    patient.save(update_fields=["phone_verified_at"])
    patient_update(actor=patient.user, patient=patient, phone="+79145550011")
    patient.refresh_from_db()
    assert patient.phone == "+79145550011"
    assert patient.phone_verified_at is None


def test_other_changes_keep_the_phone_verified(patient):
    verified_at = timezone.now()
    patient.phone_verified_at = verified_at
    patient.save(update_fields=["phone_verified_at"])
    patient_update(actor=patient.user, patient=patient, address="Иркутск, ул. Ленина, 5")
    patient.refresh_from_db()
    assert patient.phone_verified_at == verified_at
