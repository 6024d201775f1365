"""Quota counters: taken and given back by the booking services under row locks."""

import datetime

import pytest

from scheduling.choices import AppointmentChannel, AppointmentStatus
from scheduling.errors import QuotaExceeded
from scheduling.models import Quota, QuotaCounter
from scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_rollback,
)
from scheduling.services.quotas import quota_release, quota_take
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory
from tests.scheduling.conftest import local

TUE = datetime.date(2027, 3, 2)
WED = datetime.date(2027, 3, 3)


def used(quota, day) -> int | None:
    return QuotaCounter.objects.filter(quota=quota, date=day).values_list("used", flat=True).first()


@pytest.fixture
def online_quota(clinic_a, doctor):
    return Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="online", limit=1)


def take(quota, doctor, service, *, start, now, day=TUE, enforce=True, channel="online"):
    quota_take(
        clinic=quota.clinic,
        doctor_id=doctor.pk,
        service_id=service.pk,
        channel=channel,
        day=day,
        start=start,
        now=now,
        enforce=enforce,
    )


def test_taking_creates_the_days_counter_and_counts_one(clock, clinic_a, doctor, service):
    any_booking = Quota.objects.create(clinic=clinic_a, channel="online", limit=5)
    this_service = Quota.objects.create(clinic=clinic_a, service=service, channel="online", limit=5)
    take(any_booking, doctor, service, start=local(clinic_a, 2027, 3, 2, 9), now=clock.now)
    assert used(any_booking, TUE) == 1
    assert used(this_service, TUE) == 1
    assert used(any_booking, WED) is None


def test_a_used_up_quota_refuses_under_the_lock_and_counts_nothing(
    clock, clinic_a, doctor, service, online_quota
):
    """The re-check under the row lock catches a booking that won the race since the
    availability read."""
    start = local(clinic_a, 2027, 3, 2, 9)
    take(online_quota, doctor, service, start=start, now=clock.now)
    with pytest.raises(QuotaExceeded):
        take(online_quota, doctor, service, start=start, now=clock.now)
    assert used(online_quota, TUE) == 1


def test_a_released_quota_still_counts_but_no_longer_limits(
    clock, clinic_a, doctor, service, online_quota
):
    online_quota.release_before_hours = 48
    online_quota.save(update_fields=["release_before_hours"])
    start = local(clinic_a, 2027, 3, 2, 9)
    take(online_quota, doctor, service, start=start, now=clock.now)
    take(online_quota, doctor, service, start=start, now=clock.now)
    assert used(online_quota, TUE) == 2


def test_restoring_a_count_does_not_check_the_limit(clock, clinic_a, doctor, service, online_quota):
    start = local(clinic_a, 2027, 3, 2, 9)
    take(online_quota, doctor, service, start=start, now=clock.now)
    take(online_quota, doctor, service, start=start, now=clock.now, enforce=False)
    assert used(online_quota, TUE) == 2


def test_quotas_of_other_doctors_services_and_channels_are_untouched(
    clock, clinic_a, clinic_b, doctor, service, online_quota
):
    others = [
        Quota.objects.create(clinic=clinic_a, doctor=DoctorFactory(), channel="online", limit=1),
        Quota.objects.create(clinic=clinic_a, service=ServiceFactory(), channel="online", limit=1),
        Quota.objects.create(clinic=clinic_a, doctor=doctor, channel="phone", limit=1),
        Quota.objects.create(clinic=clinic_b, doctor=doctor, channel="online", limit=1),
    ]
    take(online_quota, doctor, service, start=local(clinic_a, 2027, 3, 2, 9), now=clock.now)
    assert used(online_quota, TUE) == 1
    assert not QuotaCounter.objects.filter(quota__in=others).exists()


def test_a_booking_without_a_quota_channel_takes_and_gives_back_nothing(
    clock, clinic_a, doctor, service, online_quota
):
    quota_take(
        clinic=clinic_a,
        doctor_id=doctor.pk,
        service_id=service.pk,
        channel=None,
        day=TUE,
        start=local(clinic_a, 2027, 3, 2, 9),
        now=clock.now,
    )
    assert not QuotaCounter.objects.exists()
    QuotaCounter.objects.create(quota=online_quota, date=TUE, used=1)
    quota_release(clinic=clinic_a, doctor_id=doctor.pk, service_id=service.pk, channel="", day=TUE)
    assert used(online_quota, TUE) == 1


def test_giving_back_never_goes_below_zero(clock, clinic_a, doctor, service, online_quota):
    QuotaCounter.objects.create(quota=online_quota, date=TUE, used=0)
    quota_release(
        clinic=clinic_a, doctor_id=doctor.pk, service_id=service.pk, channel="online", day=TUE
    )
    assert used(online_quota, TUE) == 0


def test_walk_ins_count_against_no_quota_when_booked_or_cancelled(
    clock, clinic_a, doctor, service, registrar_a, online_quota
):
    phone_quota = Quota.objects.create(clinic=clinic_a, channel="phone", limit=0)
    walk_in = appointment_book(
        patient=PatientFactory(),
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 9),
        channel=AppointmentChannel.WALK_IN,
        actor=registrar_a,
    )
    assert walk_in.quota_channel == ""
    assert not QuotaCounter.objects.exists()
    appointment_cancel(appointment=walk_in, actor=registrar_a)
    assert not QuotaCounter.objects.filter(quota__in=[online_quota, phone_quota]).exists()


def test_rolling_back_a_move_restores_the_old_days_count_even_over_the_limit(
    clock, clinic_a, doctor, service, patient, registrar_a, online_quota
):
    """The red button restores the state that existed; someone may have used the freed
    quota in between, and the restored booking still counts on its day."""
    appointment = appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 9),
        channel="online",
        actor=patient.user,
    )
    appointment_reschedule(
        appointment=appointment, start=local(clinic_a, 2027, 3, 3, 9), actor=registrar_a
    )
    assert (used(online_quota, TUE), used(online_quota, WED)) == (0, 1)
    appointment_book(
        patient=PatientFactory(),
        doctor=doctor,
        service=service,
        start=local(clinic_a, 2027, 3, 2, 11),
        channel="online",
        actor=registrar_a,
    )
    assert used(online_quota, TUE) == 1
    restored = appointment_rollback(appointment=appointment, actor=registrar_a)
    assert restored.status == AppointmentStatus.BOOKED
    assert restored.starts_at == local(clinic_a, 2027, 3, 2, 9)
    assert (used(online_quota, TUE), used(online_quota, WED)) == (2, 0)
