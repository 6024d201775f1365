"""The demo seed builds the rollups once; the rebuild command and the beat task."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from analytics import demo, tasks
from analytics.models import DailyFact, KpiTarget, RollupState

pytestmark = pytest.mark.django_db


def test_the_demo_seed_builds_rollups_and_targets_once(net):
    logs: list[str] = []
    ctx = SimpleNamespace(clinics={"b": net.berlin, "m": net.moscow}, log=logs.append)
    demo.seed(ctx)
    assert DailyFact.objects.exists()
    assert KpiTarget.objects.filter(clinic=net.berlin).count() == len(demo.DEMO_TARGETS)
    state = RollupState.objects.get()
    demo.seed(ctx)
    assert RollupState.objects.get().watermark == state.watermark
    assert len(logs) == 1


def test_the_command_rebuilds_from_a_date(net):
    out = io.StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert DailyFact.objects.filter(date="2026-03-28").exists()
    call_command("rebuild_rollups", "--since", "2026-03-29", stdout=out)
    assert DailyFact.objects.filter(date="2026-03-28").exists()
    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--since", "soon", stdout=out)


def test_the_beat_task_refreshes(net):
    tasks.refresh_rollups()
    assert RollupState.objects.exists()
