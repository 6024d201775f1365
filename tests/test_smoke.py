import pytest

pytestmark = pytest.mark.django_db


def test_the_landing_page_lists_active_clinics(client, clinic_a):
    response = client.get("/")
    assert response.status_code == 200
    assert "Медфронт Центр" in response.content.decode()


def test_patient_pii_round_trips_through_encryption(patient):
    from portal.models import Patient

    fresh = Patient.objects.get(pk=patient.pk)
    assert fresh.last_name == "Иванова"
    assert fresh.phone_bidx and len(fresh.phone_bidx) == 64


def test_the_wsgi_entry_point_loads_the_views_and_freezes_start_up_state():
    """A served process keeps its start-up objects out of the garbage collector's walks."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import gc, sys, config.wsgi;"
        "print(gc.get_freeze_count(), 'scheduling.api.appointments' in sys.modules)"
    )
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    assert int(out[0]) > 10_000
    assert out[1] == "True"
