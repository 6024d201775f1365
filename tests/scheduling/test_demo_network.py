"""The demo network keeps to what it publishes: every doctor's weekly rules lie inside their
clinic's opening hours, and its history has patients who stopped coming (a lapsed segment)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from crm.models import Campaign
from crm.selectors.segments import segment_patients
from scheduling.demo_network import shift_within_hours, weekly_hours
from scheduling.models import ScheduleRule

pytestmark = pytest.mark.django_db
T = datetime.time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Пн–Пт 8:00–20:00, Сб 9:00–16:00, Вс 9:00–14:00",
            {**dict.fromkeys(range(5), (T(8), T(20))), 5: (T(9), T(16)), 6: (T(9), T(14))},
        ),
        (
            "Пн–Пт 8:00–20:00, Сб 9:00–15:00",
            {**dict.fromkeys(range(5), (T(8), T(20))), 5: (T(9), T(15))},
        ),
        ("Ежедневно 8:00–21:00", dict.fromkeys(range(7), (T(8), T(21)))),
        ("Пн–Сб 9:00–15:00", dict.fromkeys(range(6), (T(9), T(15)))),
        ("", {}),
    ],
)
def test_published_hours_are_read_by_weekday(text, expected):
    assert weekly_hours(text) == expected


def test_a_shift_is_cut_to_the_hours_or_dropped():
    assert shift_within_hours((T(8), T(14)), (T(9), T(16))) == (T(9), T(14))
    assert shift_within_hours((T(14), T(20)), (T(9), T(15))) == (T(14), T(15))
    assert shift_within_hours((T(14), T(20)), (T(9), T(14, 30))) is None
    assert shift_within_hours((T(8), T(14)), None) is None


def test_the_seeded_network_keeps_its_hours_and_has_lapsed_patients():
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--patients", "80", "--quiet", stdout=io.StringIO())
    rules = list(ScheduleRule.objects.select_related("clinic", "doctor"))
    assert rules
    for rule in rules:
        hours = weekly_hours(rule.clinic.opening_hours).get(rule.weekday)
        where = f"{rule.doctor} in {rule.clinic.name}, weekday {rule.weekday}"
        assert hours is not None, f"{where}: the clinic is closed"
        assert hours[0] <= rule.start_time < rule.end_time <= hours[1], where
        for start, end in rule.breaks:
            assert rule.start_time.isoformat("minutes") <= start < end, where
            assert end <= rule.end_time.isoformat("minutes"), where
    # Patients who came and then stopped more than half a year ago: the campaign's audience.
    assert segment_patients(rules={"inactive_days": 180}).count() > 0
    campaign = Campaign.objects.get()
    assert campaign.segment.rules["inactive_days"] == 180
