"""The booking path's lean load of the caller's own profile."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal import permissions
from portal.models import User
from scheduling.api.selectors import BOOKING_PROFILE_FIELDS, preload_own_profile_for_booking

pytestmark = pytest.mark.django_db


def test_a_patients_profile_is_cached_with_only_the_booking_columns(patient):
    user = User.objects.get(pk=patient.user_id)
    with CaptureQueriesContext(connection) as ctx:
        preload_own_profile_for_booking(user)
        assert permissions.is_patient(user)
        assert (user.patient.pk, user.patient.phone) == (patient.pk, patient.phone)
        assert user.patient.user is user
        preload_own_profile_for_booking(user)  # cached already: no second query
    assert len(ctx.captured_queries) == 1
    assert "last_name" in user.patient.get_deferred_fields()
    assert {"phone", "email", "preferred_language"}.isdisjoint(user.patient.get_deferred_fields())
    assert set(BOOKING_PROFILE_FIELDS) >= {"phone", "email"}


def test_a_user_without_a_profile_is_cached_as_none(registrar_a):
    user = User.objects.get(pk=registrar_a.pk)
    preload_own_profile_for_booking(user)
    with CaptureQueriesContext(connection) as ctx:
        assert not permissions.is_patient(user)
    assert ctx.captured_queries == []


def test_anonymous_is_left_alone():
    from django.contrib.auth.models import AnonymousUser

    user = AnonymousUser()
    preload_own_profile_for_booking(user)
    assert not permissions.is_patient(user)
