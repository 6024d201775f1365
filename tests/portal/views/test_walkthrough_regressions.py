"""Problems found by using the demo as a clinic's users would, pinned so they stay fixed."""

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.models import FamilyLink, Patient
from portal.services.family import AlreadyLinked

pytestmark = pytest.mark.django_db


def child_form(**changes):
    today = timezone.localdate()
    data = {
        "relation": "child",
        "last_name": "Морозов",
        "first_name": "Тимофей",
        "middle_name": "",
        "birth_date": today.replace(year=today.year - 7).isoformat(),
        "sex": "",
        "legal_basis": "parent_of_minor",
        "basis_document": "",
        "valid_until": "",
    }
    data.update(changes)
    return data


def test_posting_the_add_a_child_form_twice_keeps_one_profile(patient, as_user):
    client = as_user(patient.user)
    assert client.post(reverse("portal:family_add"), child_form()).status_code == 302
    counts = (Patient.objects.count(), FamilyLink.objects.count())

    response = client.post(reverse("portal:family_add"), child_form())

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [str(AlreadyLinked.default_message)]
    assert (Patient.objects.count(), FamilyLink.objects.count()) == counts
