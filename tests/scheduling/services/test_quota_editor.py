"""The quota editor: quotas of a clinic and the limits of single days, and the booking engine
honouring those limits (offered slots and the locked re-check alike)."""

import datetime

import pytest

from portal.models import AuditEvent
from scheduling.errors import InvalidInput, QuotaExceeded
from scheduling.models import Quota, QuotaCounter
from scheduling.selectors.availability import EARLIEST_DATE, free_slots
from scheduling.services.booking import appointment_book
from scheduling.services.quota_editor import (
    MAX_QUOTA_LIMIT,
    quota_create,
    quota_day_set,
    quota_delete,
    quota_update,
)
from scheduling.services.quotas import quota_take
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)
WED = datetime.date(2027, 3, 3)


def offered(doctor, service, day, channel="online"):
    return free_slots(service=service, doctor=doctor, channel=channel, start_date=day, end_date=day)


def book(doctor, service, start, channel="online"):
    patient = PatientFactory()
    return appointment_book(
        patient=patient, doctor=doctor, service=service, start=start, channel=channel, actor=None
    )


def test_it_creates_a_quota_and_audits_it(clinic_a, doctor, service, head_nurse_a):
    quota = quota_create(
        clinic=clinic_a,
        channel="online",
        limit=3,
        doctor=doctor,
        service=service,
        release_before_hours=24,
        actor=head_nurse_a,
    )
    assert (quota.doctor, quota.service, quota.limit, quota.release_before_hours) == (
        doctor,
        service,
        3,
        24,
    )
    event = AuditEvent.objects.get(object_type="scheduling.quota")
    assert event.action == "create"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"channel": "pigeon"}, "invalid_channel"),
        ({"limit": -1}, "invalid_limit"),
        ({"limit": MAX_QUOTA_LIMIT + 1}, "invalid_limit"),
        ({"release_before_hours": -1}, "invalid_release"),
        ({"release_before_hours": 10_000}, "invalid_release"),
    ],
)
def test_it_refuses_bad_numbers_and_channels(clinic_a, head_nurse_a, kwargs, code):
    args = {"clinic": clinic_a, "channel": "online", "limit": 2, "actor": head_nurse_a} | kwargs
    with pytest.raises(InvalidInput) as err:
        quota_create(**args)
    assert err.value.code == code
    assert not Quota.objects.exists()


def test_it_refuses_a_doctor_of_another_clinic_an_inactive_service_and_twins(
    clinic_a, clinic_b, doctor, service, head_nurse_a
):
    stranger = DoctorFactory(clinics=[clinic_b])
    with pytest.raises(InvalidInput) as err:
        quota_create(
            clinic=clinic_a, channel="online", limit=1, doctor=stranger, actor=head_nurse_a
        )
    assert err.value.code == "foreign_doctor"
    retired = ServiceFactory(is_active=False)
    with pytest.raises(InvalidInput) as err:
        quota_create(
            clinic=clinic_a, channel="online", limit=1, service=retired, actor=head_nurse_a
        )
    assert err.value.code == "inactive_service"
    quota_create(clinic=clinic_a, channel="phone", limit=1, doctor=doctor, actor=head_nurse_a)
    with pytest.raises(InvalidInput) as err:
        quota_create(clinic=clinic_a, channel="phone", limit=5, doctor=doctor, actor=head_nurse_a)
    assert err.value.code == "duplicate_quota"
    assert Quota.objects.count() == 1


def test_it_updates_the_limit_and_release_and_deletes(clinic_a, head_nurse_a):
    quota = quota_create(clinic=clinic_a, channel="online", limit=1, actor=head_nurse_a)
    quota_update(quota=quota, limit=7, release_before_hours=None, actor=head_nurse_a)
    quota.refresh_from_db()
    assert (quota.limit, quota.release_before_hours) == (7, None)
    with pytest.raises(InvalidInput):
        quota_update(quota=quota, limit=-3, release_before_hours=None, actor=head_nurse_a)
    quota_day_set(quota=quota, day=TUE, limit=2, actor=head_nurse_a)
    quota_delete(quota=quota, actor=head_nurse_a)
    assert not Quota.objects.exists()
    assert not QuotaCounter.objects.exists()
    actions = list(
        AuditEvent.objects.filter(object_type="scheduling.quota").values_list("action", flat=True)
    )
    assert actions == ["create", "update", "update", "delete"]


def test_a_day_limit_is_set_kept_with_the_count_and_cleared(clinic_a, head_nurse_a):
    quota = quota_create(clinic=clinic_a, channel="online", limit=4, actor=head_nurse_a)
    QuotaCounter.objects.create(quota=quota, date=TUE, used=3)
    counter = quota_day_set(quota=quota, day=TUE, limit=1, actor=head_nurse_a)
    assert (counter.used, counter.day_limit, counter.limit_of(quota)) == (3, 1, 1)
    counter = quota_day_set(quota=quota, day=WED, limit=0, actor=head_nurse_a)
    assert (counter.used, counter.day_limit) == (0, 0)
    counter = quota_day_set(quota=quota, day=TUE, limit=None, actor=head_nurse_a)
    assert (counter.used, counter.limit_of(quota)) == (3, 4)


def test_a_day_limit_refuses_bad_days_and_numbers(clinic_a, head_nurse_a):
    quota = quota_create(clinic=clinic_a, channel="online", limit=4, actor=head_nurse_a)
    with pytest.raises(InvalidInput) as err:
        quota_day_set(quota=quota, day=datetime.date.min, limit=1, actor=head_nurse_a)
    assert err.value.code == "invalid_date"
    with pytest.raises(InvalidInput) as err:
        quota_day_set(quota=quota, day=EARLIEST_DATE, limit=MAX_QUOTA_LIMIT + 1, actor=None)
    assert err.value.code == "invalid_limit"
    assert not QuotaCounter.objects.exists()


def test_the_engine_offers_nothing_on_a_day_closed_to_a_channel(
    clock, clinic_a, doctor, service, head_nurse_a
):
    quota = quota_create(clinic=clinic_a, channel="online", limit=5, actor=head_nurse_a)
    quota_day_set(quota=quota, day=TUE, limit=0, actor=head_nurse_a)
    assert offered(doctor, service, TUE) == []
    assert offered(doctor, service, WED) != []
    # Another channel is not limited by this quota.
    assert offered(doctor, service, TUE, channel="phone") != []


def test_a_day_limit_above_the_standing_one_lets_more_book(
    clock, clinic_a, doctor, service, head_nurse_a
):
    quota = quota_create(clinic=clinic_a, channel="online", limit=1, actor=head_nurse_a)
    quota_day_set(quota=quota, day=TUE, limit=2, actor=head_nurse_a)
    book(doctor, service, local(clinic_a, 2027, 3, 2, 9))
    book(doctor, service, local(clinic_a, 2027, 3, 2, 10))
    assert offered(doctor, service, TUE) == []
    with pytest.raises(QuotaExceeded):
        book(doctor, service, local(clinic_a, 2027, 3, 2, 11))
    # Wednesday keeps the standing limit of one.
    book(doctor, service, local(clinic_a, 2027, 3, 3, 9))
    assert offered(doctor, service, WED) == []


def test_the_locked_recheck_honours_a_day_limit_set_after_the_read(
    clock, clinic_a, doctor, service, head_nurse_a
):
    """A booking whose availability read came before the head nurse lowered the day's limit
    is refused under the counter's row lock."""
    quota = quota_create(clinic=clinic_a, channel="online", limit=3, actor=head_nurse_a)
    quota_day_set(quota=quota, day=TUE, limit=0, actor=head_nurse_a)
    with pytest.raises(QuotaExceeded):
        quota_take(
            clinic=clinic_a,
            doctor_id=doctor.pk,
            service_id=service.pk,
            channel="online",
            day=TUE,
            start=local(clinic_a, 2027, 3, 2, 9),
            now=clock.now,
            quotas=[quota],
        )
    assert QuotaCounter.objects.get(quota=quota, date=TUE).used == 0


def test_day_limits_cost_the_engine_no_query(
    clock, clinic_a, doctor, service, head_nurse_a, django_assert_num_queries
):
    quota = quota_create(clinic=clinic_a, channel="online", limit=3, actor=head_nurse_a)
    QuotaCounter.objects.create(quota=quota, date=WED, used=1)
    with django_assert_num_queries(9) as plain:
        offered(doctor, service, TUE)
    quota_day_set(quota=quota, day=TUE, limit=1, actor=head_nurse_a)
    with django_assert_num_queries(len(plain.captured_queries)):
        assert len(offered(doctor, service, TUE)) == 8
