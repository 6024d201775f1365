"""The development sender delivers nothing: refused without DEBUG unless explicitly allowed,
and reported by `manage.py check --deploy`. tests/config/test_settings.py starts real
processes with the production profile."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from notifications.checks import (
    check_development_sender,
    check_sender_settings,
    refuse_development_sender_without_debug,
)

REAL = "tests.config.senders.ProviderStandIn"
ALL_REAL = {"email": REAL, "sms": REAL, "messenger": REAL}


@override_settings(DEBUG=False, NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER=False)
def test_without_debug_the_development_sender_is_refused_naming_the_setting():
    with (
        override_settings(NOTIFICATION_SENDERS={"email": REAL}),
        pytest.raises(ImproperlyConfigured) as refused,
    ):
        refuse_development_sender_without_debug()
    assert "NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER" in str(refused.value)
    assert "messenger, sms" in str(refused.value)


@pytest.mark.parametrize(
    ("debug", "allowed", "senders"),
    [(True, False, {}), (False, True, {}), (False, False, ALL_REAL)],
)
def test_debug_an_explicit_allowance_or_real_senders_let_it_start(debug, allowed, senders):
    with override_settings(
        DEBUG=debug, NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER=allowed, NOTIFICATION_SENDERS=senders
    ):
        refuse_development_sender_without_debug()


def test_the_deployment_check_names_the_channels_left_to_it():
    with override_settings(NOTIFICATION_SENDERS={"sms": REAL}):
        [warning] = check_development_sender(None)
    assert warning.id == "notifications.W001"
    assert "email, messenger" in warning.msg
    with override_settings(NOTIFICATION_SENDERS=ALL_REAL):
        assert check_development_sender(None) == []


def test_a_real_sms_sender_without_its_key_is_a_configuration_error():
    with override_settings(
        NOTIFICATION_SENDERS={"sms": "notifications.senders.smsru.SmsRuSender"}, SMSRU_API_ID=""
    ):
        [error] = check_sender_settings(None)
    assert error.id == "notifications.E002"
    assert "SMSRU_API_ID" in error.msg
    with override_settings(
        NOTIFICATION_SENDERS={"sms": "notifications.senders.twilio.TwilioSender"},
        TWILIO_ACCOUNT_SID="AC1",
        TWILIO_AUTH_TOKEN="",
        TWILIO_STATUS_CALLBACK_URL="https://portal.example.test/notifications/sms/twilio/status/",
    ):
        errors = check_sender_settings(None)
    assert [e.id for e in errors] == ["notifications.E002", "notifications.E003"]
    assert "TWILIO_AUTH_TOKEN" in errors[0].msg and "TWILIO_ACCOUNT_SID" not in errors[0].msg
    with override_settings(
        NOTIFICATION_SENDERS={"sms": "notifications.senders.smsru.SmsRuSender"},
        SMSRU_API_ID="key",
    ):
        assert check_sender_settings(None) == []
