"""Reactions to sign-in events of Django and allauth (their documented signals), connected at
start-up by `PortalConfig.ready`: the lockout and API tokens."""

from __future__ import annotations

import logging

from portal.request_context import client_ip
from portal.services import api_tokens, lockout
from portal.services.limits import StoreUnavailable

logger = logging.getLogger(__name__)


def clear_lockout_after_sign_in(sender, request, user, **kwargs) -> None:
    """Django's `user_logged_in`: a completed sign-in (second factor included) ends the count
    of its account from this address."""
    if request is None:
        return
    try:
        lockout.login_succeeded(subject=lockout.user_subject(user=user), ip=client_ip(request))
    except StoreUnavailable:
        # The session is signed in already; the count lapses with its cool-off anyway.
        logger.warning("Could not clear a sign-in count: the shared store does not answer")


def lift_lockout_after_password_reset(sender, request, user, **kwargs) -> None:
    """allauth's `password_reset`: a completed reset proves the mailbox, so the account is
    unlocked for this client address too."""
    lockout.login_succeeded(subject=lockout.user_subject(user=user), ip=client_ip(request))


def revoke_api_tokens(sender, request, user, **kwargs) -> None:
    """allauth's `password_changed`, `password_set` and `password_reset`: every API token
    issued under the old password goes (the API also refuses such tokens on their own)."""
    api_tokens.api_tokens_revoke_all(user=user)


def connect() -> None:
    from allauth.account.signals import password_changed, password_reset, password_set
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.connect(clear_lockout_after_sign_in, dispatch_uid="portal.lockout_sign_in")
    password_reset.connect(
        lift_lockout_after_password_reset, dispatch_uid="portal.lift_lockout_after_reset"
    )
    for signal, name in (
        (password_changed, "changed"),
        (password_set, "set"),
        (password_reset, "reset"),
    ):
        signal.connect(revoke_api_tokens, dispatch_uid=f"portal.revoke_tokens_password_{name}")
