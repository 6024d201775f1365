"""Missed and first-time calls become leads, announced by telephony through a portal signal."""

import logging

import pytest

from crm.choices import LeadSource
from crm.models import Lead
from portal.signals import enquiry_received
from tests.factories import PatientFactory
from tests.telephony.conftest import CALLER, generic_event, post_generic

pytestmark = pytest.mark.django_db


def ring(client, account, call_id, *states):
    for state in states:
        response = post_generic(client, account, generic_event(call_id, state))
        assert response.status_code == 200, response.content


def test_a_first_call_from_an_unknown_number_becomes_a_lead(
    webhook_client, generic_account, line_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ring(webhook_client, generic_account, "c-1", "ringing", "answered", "ended")
    lead = Lead.objects.get()
    assert lead.source == LeadSource.CALL
    assert lead.clinic == line_a.clinic
    assert lead.tracking_number == line_a.number
    assert lead.phone_bidx


def test_a_known_patients_answered_call_is_no_lead_but_a_missed_one_is(
    webhook_client, generic_account, line_a, django_capture_on_commit_callbacks
):
    patient = PatientFactory(phone=CALLER)
    with django_capture_on_commit_callbacks(execute=True):
        ring(webhook_client, generic_account, "c-1", "ringing", "answered", "ended")
    assert not Lead.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        ring(webhook_client, generic_account, "c-2", "ringing", "ended")
        ring(webhook_client, generic_account, "c-3", "ringing", "ended")
    lead = Lead.objects.get()
    assert lead.patient == patient
    # The second missed call is a "came back" line on the same lead.
    assert lead.events.filter(kind="touch").count() == 1


def test_a_failing_listener_loses_no_call_and_logs_no_number(
    webhook_client, generic_account, line_a, django_capture_on_commit_callbacks, caplog
):
    def broken(**kwargs):
        raise RuntimeError(kwargs["phone"])

    enquiry_received.connect(broken, dispatch_uid="test.broken")
    try:
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            ring(webhook_client, generic_account, "c-1", "ringing", "ended")
    finally:
        enquiry_received.disconnect(dispatch_uid="test.broken")
    assert Lead.objects.count() == 1
    assert "enquiry listener" in caplog.text
    assert CALLER not in caplog.text and CALLER[-4:] not in caplog.text
