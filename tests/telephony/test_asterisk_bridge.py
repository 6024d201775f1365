"""The Asterisk AGI bridge of the README, run as Asterisk runs it (a process reading the AGI
environment on stdin) against a live server: ring, answer at an extension, hang up."""

import subprocess
import sys
from pathlib import Path

import pytest

from telephony.models import Call, LineAnswerer, TelephonyAccount, TelephonyLine

pytestmark = pytest.mark.django_db(transaction=True)
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "asterisk" / "medfront_call_agi.py"


def agi(live_server, account, *args, env_lines, secret="bridge-secret"):  # noqa: S107
    stdin = "".join(f"{name}: {value}\n" for name, value in env_lines.items()) + "\n"
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env={
            "MEDFRONT_WEBHOOK_URL": (
                f"{live_server.url}/telephony/generic/{account.public_id}/events/"
            ),
            "MEDFRONT_WEBHOOK_SECRET": secret,
        },
    )


def test_the_agi_bridge_reports_a_whole_call(live_server, clinic_a, registrar_a):
    account = TelephonyAccount.objects.create(
        name="Asterisk", provider="generic", secret="bridge-secret"
    )
    line = TelephonyLine.objects.create(
        account=account, clinic=clinic_a, name="Reception", number="+73952000000"
    )
    LineAnswerer.objects.create(line=line, user=registrar_a, extension="101")
    caller_channel = {
        "agi_uniqueid": "1764876000.42",
        "agi_callerid": "89145551234",
        "agi_dnid": "73952000000",
        "agi_extension": "s",
    }
    agi(live_server, account, "ringing", env_lines=caller_channel)
    agi(live_server, account, "answered", "1764876000.42", "101", env_lines={"agi_uniqueid": "x"})
    agi(live_server, account, "ended", env_lines=caller_channel)
    call = Call.objects.get()
    assert call.from_number == "+79145551234"
    assert call.answered_by == registrar_a and call.state == "ended" and not call.missed


def test_a_wrong_secret_is_reported_to_asterisk_without_the_number(live_server, clinic_a):
    account = TelephonyAccount.objects.create(name="Asterisk", provider="generic", secret="right")
    TelephonyLine.objects.create(account=account, clinic=clinic_a, name="R", number="+73952000000")
    result = agi(
        live_server,
        account,
        "ringing",
        env_lines={"agi_uniqueid": "1.1", "agi_callerid": "89145551234", "agi_dnid": "1"},
        secret="wrong",
    )
    assert "not sent (HTTPError)" in result.stderr
    assert "5551234" not in result.stderr
    assert not Call.objects.exists()
