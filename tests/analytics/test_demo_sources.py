"""The demo's past conversations and calls: seeded once, and telling the seed's story (the
assistant settles most conversations; the reception answers faster than a year ago)."""

from __future__ import annotations

import datetime
import random
from types import SimpleNamespace

import pytest
from django.utils import timezone

from analytics.selectors.conversations import conversation_figures
from analytics.selectors.facts import clinic_zones
from analytics.selectors.scope import Scope
from crm import demo_conversations
from telephony import demo_history
from telephony.models import TelephonyAccount, TelephonyLine
from telephony.selectors.answer_times import call_answer_figures

pytestmark = pytest.mark.django_db


def context(net) -> SimpleNamespace:
    return SimpleNamespace(
        rng=random.Random(7), clinics={"b": net.berlin, "m": net.moscow}, log=lambda _t: None
    )


def test_demo_conversations_are_seeded_once_and_mostly_settled(net):
    ctx = context(net)
    made = demo_conversations.seed(ctx)
    assert made > 0
    assert demo_conversations.seed(ctx) == 0
    today = timezone.now().date()
    network = Scope(clinic_ids=None, first=today - datetime.timedelta(days=100), last=today)
    figures = conversation_figures(scope=network)
    assert figures.conversations == made
    assert 0.5 < figures.resolved / figures.conversations < 0.9
    assert 0 < figures.handed_over < figures.resolved
    assert figures.minutes_to_booking is not None


def test_demo_calls_are_answered_faster_now_than_a_year_ago(net):
    account = TelephonyAccount.objects.create(name="Demo", provider="generic", secret="x")
    line = TelephonyLine.objects.create(account=account, clinic=net.berlin, number="+4930")
    ctx = context(net)
    assert demo_history.seed_history(account, line, ctx) > 0
    assert demo_history.seed_history(account, line, ctx) == 0
    zones = clinic_zones([net.berlin.pk])
    today = timezone.now().astimezone(net.berlin.tz).date()
    recent = call_answer_figures(zones=zones, first=today - datetime.timedelta(days=30), last=today)
    year_ago = call_answer_figures(
        zones=zones,
        first=today - datetime.timedelta(days=365),
        last=today - datetime.timedelta(days=335),
    )
    assert recent.median_seconds is not None and year_ago.median_seconds is not None
    assert recent.median_seconds < year_ago.median_seconds
    assert recent.missed < year_ago.missed
