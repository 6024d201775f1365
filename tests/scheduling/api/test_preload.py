"""The booking path's lean load of the caller's own profile."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal import permissions
from portal.models import User
from scheduling.api.selectors import BOOKING_PROFILE_FIELDS, BookingReads

pytestmark = pytest.mark.django_db


def test_a_patients_profile_is_cached_with_only_the_booking_columns(patient):
    user = User.objects.get(pk=patient.user_id)
    with CaptureQueriesContext(connection) as ctx:
        BookingReads(user, None)
        assert permissions.is_patient(user)
        assert (user.patient.pk, user.patient.phone) == (patient.pk, patient.phone)
        assert user.patient.user is user
        BookingReads(user, None)  # cached already: no second query
    assert len(ctx.captured_queries) == 1
    assert "last_name" in user.patient.get_deferred_fields()
    assert {"phone", "email", "preferred_language"}.isdisjoint(user.patient.get_deferred_fields())
    assert set(BOOKING_PROFILE_FIELDS) >= {"phone", "email"}


def test_a_user_without_a_profile_is_cached_as_none(registrar_a):
    user = User.objects.get(pk=registrar_a.pk)
    BookingReads(user, None)
    with CaptureQueriesContext(connection) as ctx:
        assert not permissions.is_patient(user)
    assert ctx.captured_queries == []


def test_anonymous_is_left_alone():
    from django.contrib.auth.models import AnonymousUser

    user = AnonymousUser()
    BookingReads(user, None)
    assert not permissions.is_patient(user)


# --- BookingReads: the profile, service and doctor of a booking request in one round trip -----


def test_the_named_service_and_doctor_are_answered_without_another_query(patient, service, doctor):
    from scheduling.api.selectors import BookingReads

    user = User.objects.get(pk=patient.user_id)
    body = {"service": str(service.public_id), "doctor": str(doctor.public_id)}
    reads = BookingReads(user, body)
    with CaptureQueriesContext(connection) as ctx:
        assert permissions.is_patient(user)
        assert reads.service_and_doctor(service.public_id, doctor.public_id) == (service, doctor)
    assert ctx.captured_queries == []


def test_an_unknown_or_inactive_id_is_404(patient, service, doctor):
    import uuid

    from django.http import Http404

    from scheduling.api.selectors import BookingReads

    doctor.is_active = False
    doctor.save(update_fields=["is_active"])
    user = User.objects.get(pk=patient.user_id)
    for body in (
        {"service": str(service.public_id), "doctor": str(doctor.public_id)},
        {"service": str(uuid.uuid4()), "doctor": str(doctor.public_id)},
    ):
        reads = BookingReads(user, body)
        with pytest.raises(Http404):
            reads.service_and_doctor(body["service"], body["doctor"])


def test_ids_the_body_did_not_name_well_are_read_when_asked(patient, service, doctor):
    from scheduling.api.selectors import BookingReads

    user = User.objects.get(pk=patient.user_id)
    reads = BookingReads(user, ["not", "a", "mapping"])
    assert reads.catalogue == []
    with CaptureQueriesContext(connection) as ctx:
        assert reads.service_and_doctor(service.public_id, doctor.public_id) == (service, doctor)
    assert len(ctx.captured_queries) == 2  # the service and the doctor, in one round trip


def test_malformed_json_is_403_for_a_non_booker_and_400_for_a_patient(api_as, marketer, patient):
    url = "/api/v1/appointments/"
    broken = "{not json"
    denied = api_as(marketer).post(url, broken, content_type="application/json")
    assert denied.status_code == 403
    refused = api_as(patient.user).post(url, broken, content_type="application/json")
    assert refused.status_code == 400
    assert "JSON" in refused.json()["detail"]
