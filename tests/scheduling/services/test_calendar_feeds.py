"""Calendar feed secrets: issued once, rotated on demand, only for patients and doctors."""

import pytest
from django.core.exceptions import PermissionDenied

from scheduling.models import CalendarFeedToken
from scheduling.selectors.calendar_feeds import feed_owner
from scheduling.services.calendar_feeds import calendar_feed_rotate, calendar_feed_secret
from tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db


def test_the_first_request_issues_a_secret_and_later_ones_show_it_again(patient):
    secret = calendar_feed_secret(user=patient.user)
    assert calendar_feed_secret(user=patient.user) == secret
    assert feed_owner(secret) == patient.user


def test_it_shows_the_winners_secret_when_two_first_requests_race(patient, monkeypatch):
    winner = calendar_feed_secret(user=patient.user)
    # The loser's lookup ran before the winner's row existed: it then fails to insert its own.
    monkeypatch.setattr(
        CalendarFeedToken.objects, "filter", lambda **kwargs: CalendarFeedToken.objects.none()
    )
    assert calendar_feed_secret(user=patient.user) == winner


def test_rotating_before_any_secret_issues_one(doctor_a):
    DoctorFactory(user=doctor_a)
    secret = calendar_feed_rotate(user=doctor_a)
    assert feed_owner(secret) == doctor_a


def test_rotating_replaces_the_secret_and_the_old_address_stops_working(patient):
    old = calendar_feed_secret(user=patient.user)
    new = calendar_feed_rotate(user=patient.user)
    assert new != old
    assert feed_owner(old) is None
    assert feed_owner(new) == patient.user


@pytest.mark.parametrize("write", [calendar_feed_secret, calendar_feed_rotate])
def test_it_refuses_staff_without_a_doctor_profile(write, registrar_a):
    with pytest.raises(PermissionDenied):
        write(user=registrar_a)
    assert not CalendarFeedToken.objects.exists()
