"""The development sender delivers nothing: refused without DEBUG unless explicitly allowed,
and reported by `manage.py check --deploy`. tests/config/test_settings.py starts real
processes with the production profile."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from notifications.checks import check_development_sender, refuse_development_sender_without_debug

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
