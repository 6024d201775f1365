"""Values handed to the staff "new patient" form through the session: taken once, only while
fresh, only known fields."""

import time

import pytest

from portal.prefill import (
    LIFETIME_SECONDS,
    SESSION_KEY,
    new_patient_prefill_remember,
    new_patient_prefill_take,
)


def test_a_remembered_phone_is_taken_once():
    session = {}
    new_patient_prefill_remember(session, phone="+79145551234")
    assert new_patient_prefill_take(session) == {"phone": "+79145551234"}
    assert new_patient_prefill_take(session) == {}


def test_an_old_value_is_dropped():
    session = {}
    new_patient_prefill_remember(session, phone="+79145551234")
    session[SESSION_KEY]["at"] = int(time.time()) - LIFETIME_SECONDS - 1
    assert new_patient_prefill_take(session) == {}
    assert SESSION_KEY not in session


def test_only_known_fields_are_kept():
    with pytest.raises(ValueError, match="prefillable"):
        new_patient_prefill_remember({}, notes="anything")
    session = {SESSION_KEY: {"at": int(time.time()), "values": {"phone": "+7914", "x": "y"}}}
    assert new_patient_prefill_take(session) == {"phone": "+7914"}
    assert new_patient_prefill_take({SESSION_KEY: "garbage"}) == {}
