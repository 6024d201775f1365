import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from scheduling.models import BookingPolicy
from scheduling.models.rules import MAX_HORIZON_DAYS

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_horizon_beyond_two_years(clinic_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingPolicy.objects.create(clinic=clinic_a, horizon_days=MAX_HORIZON_DAYS + 1)
    assert not BookingPolicy.objects.exists()


def test_forms_explain_the_horizon_limit(clinic_a):
    policy = BookingPolicy(clinic=clinic_a, horizon_days=10_000)
    with pytest.raises(ValidationError) as caught:
        policy.full_clean()
    assert "horizon_days" in caught.value.message_dict


def test_a_two_year_horizon_is_accepted(clinic_a):
    policy = BookingPolicy.objects.create(clinic=clinic_a, horizon_days=MAX_HORIZON_DAYS)
    assert policy.horizon_days == 730
