"""The assistant's KPIs against hand-computed values, with a conversation on each side of
Berlin's local midnight (the period is 28–30 March 2026, the DST day included)."""

from __future__ import annotations

import datetime

import pytest

from analytics.selectors.conversations import conversation_figures
from analytics.selectors.scope import Scope
from analytics.selectors.sources import source_kpis
from crm.models import Conversation

from .conftest import BERLIN, FIRST, LAST, MOSCOW, at

pytestmark = pytest.mark.django_db


def talk(*, started, clinic=None, resolved=False, handed_over=False, booked_after=None, wrote=True):
    conversation = Conversation.objects.create(
        channel="widget",
        clinic=clinic,
        resolved_without_operator=resolved,
        handed_over_at=started + datetime.timedelta(minutes=3) if handed_over else None,
        booked_at=(
            started + datetime.timedelta(minutes=booked_after) if booked_after is not None else None
        ),
        bookings_made=1 if booked_after is not None else 0,
        last_message_at=started + datetime.timedelta(minutes=1) if wrote else None,
    )
    # `created_at` is set on insert; the dataset needs its own start times.
    Conversation.objects.filter(pk=conversation.pk).update(created_at=started)
    return conversation


@pytest.fixture
def talks(net):
    b = net.berlin
    talk(started=at(BERLIN, 28, 10), clinic=b, resolved=True, booked_after=12)
    # 00:30 on the 28th in Berlin is still the 27th in UTC: in the period.
    talk(started=at(BERLIN, 28, 0, 30), clinic=b, resolved=True, booked_after=30)
    talk(started=at(BERLIN, 29, 15), clinic=b, handed_over=True)
    # 00:30 on the 31st in Berlin is still the 30th in UTC: after the period.
    talk(started=at(BERLIN, 31, 0, 30), clinic=b, resolved=True, booked_after=5)
    # The widget opened but nobody wrote: not a conversation.
    talk(started=at(BERLIN, 29, 11), clinic=b, wrote=False)
    # About no clinic yet (the network's), and one of the Moscow clinic.
    talk(started=at(MOSCOW, 29, 12))
    talk(started=at(MOSCOW, 30, 9), clinic=net.moscow, resolved=True)
    return net


def berlin(net) -> Scope:
    return Scope(clinic_ids=frozenset({net.berlin.pk}), first=FIRST, last=LAST)


def network() -> Scope:
    return Scope(clinic_ids=None, first=FIRST, last=LAST)


def test_a_clinic_counts_its_conversations_of_its_local_days(talks):
    values = source_kpis(scope=berlin(talks)).values
    # Three conversations: two settled by the assistant (booked after 12 and 30 minutes),
    # one handed over.
    assert values["assistant_resolved"] == pytest.approx(2 / 3)
    assert values["assistant_handoff"] == pytest.approx(1 / 3)
    assert values["assistant_time_to_booking"] == pytest.approx(21)


def test_the_network_adds_conversations_without_a_clinic(talks):
    figures_ = conversation_figures(scope=network())
    # Berlin's three, the network's one and Moscow's one.
    assert figures_.conversations == 5
    assert figures_.resolved == 3
    assert figures_.handed_over == 1


def test_another_clinic_sees_neither_berlin_nor_the_networks_conversations(talks):
    moscow = Scope(clinic_ids=frozenset({talks.moscow.pk}), first=FIRST, last=LAST)
    values = source_kpis(scope=moscow).values
    assert values["assistant_resolved"] == 1
    assert values["assistant_handoff"] == 0
    assert values["assistant_time_to_booking"] is None


def test_no_conversations_read_no_data_yet_not_zero(net):
    values = source_kpis(scope=berlin(net)).values
    for code in ("assistant_resolved", "assistant_handoff", "assistant_time_to_booking"):
        assert values[code] is None


def test_bookings_by_the_assistant_are_counted_in_its_conversations(talks):
    # Berlin's two booked conversations of the period (the one on the 31st is after it).
    assert source_kpis(scope=berlin(talks)).values["assistant_bookings"] == 2
    moscow = Scope(clinic_ids=frozenset({talks.moscow.pk}), first=FIRST, last=LAST)
    # Conversations that booked nothing: a true zero, not "no data".
    assert source_kpis(scope=moscow).values["assistant_bookings"] == 0


def test_bookings_by_the_assistant_read_no_data_without_conversations(net):
    assert source_kpis(scope=berlin(net)).values["assistant_bookings"] is None
