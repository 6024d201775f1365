"""allauth's code forms held to the lockout and the code limits (ACCOUNT_FORMS, MFA_FORMS).

Each subclass adds a check before allauth's own and counts what allauth's own check refused:
- asking for a sign-in code: the account + address lockout, then the code limits;
- typing a sign-in code: the wrong-code limit, then a wrong code counts there and as a failed
  sign-in (the same lockout as a wrong password);
- typing an authenticator (TOTP) or recovery code, at sign-in or to confirm a session: the
  lockout, then a wrong code counts as a failed sign-in;
- verifying a phone: the wrong-code limit; changing the phone: the code limits first;
- activating an authenticator app: a valid code proves the app for this session.
"""

from __future__ import annotations

from collections.abc import Callable

from allauth.account.forms import (
    ChangePhoneForm as AllauthChangePhoneForm,
)
from allauth.account.forms import (
    ConfirmLoginCodeForm as AllauthConfirmLoginCodeForm,
)
from allauth.account.forms import (
    VerifyPhoneForm as AllauthVerifyPhoneForm,
)
from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm as AllauthMfaAuthenticateForm
from allauth.mfa.base.forms import ReauthenticateForm as AllauthMfaReauthenticateForm
from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm
from django.core.exceptions import ValidationError

from portal.auth import codes
from portal.auth.adapter import refuse_if_locked
from portal.auth.forms import RequestLoginCodeForm as PortalRequestLoginCodeForm
from portal.auth.policy import mark_session_mfa_set_up
from portal.request_context import client_ip
from portal.selectors.accounts import login_for_identifier
from portal.services import accounts, code_limits, lockout


def _target_for(*, address: str, user) -> code_limits.CodeTarget:
    patient = accounts.own_patient(user) if user is not None else None
    return code_limits.code_target(
        address=address, people=[code_limits.person_of(patient=patient, user=user)]
    )


def _check(check, *, target: code_limits.CodeTarget) -> None:
    """Run a code-limit check as a form error."""
    try:
        check(target=target)
    except code_limits.CodeLimitReached as exc:
        raise ValidationError(exc.message, code="code_limit") from exc


class RequestLoginCodeForm(PortalRequestLoginCodeForm):
    def clean(self):
        cleaned_data = super().clean()
        identifier = cleaned_data.get("phone") or cleaned_data.get("email")
        if self.errors or not identifier:
            return cleaned_data
        user = login_for_identifier(identifier=identifier)
        subject = (
            lockout.user_subject(user=user)
            if user is not None
            else lockout.lockout_subject(identifier=identifier)
        )
        refuse_if_locked(context.request, subject=subject)
        _check(code_limits.code_send_check, target=_target_for(address=identifier, user=user))
        return cleaned_data


class ConfirmLoginCodeForm(AllauthConfirmLoginCodeForm):
    def clean_code(self) -> str:
        request = context.request
        pending = codes.pending(request)
        if pending is None:
            return super().clean_code()
        target, subject = pending
        _check(code_limits.code_guess_check, target=target)
        if subject:
            refuse_if_locked(request, subject=subject)
        try:
            code = super().clean_code()
        except ValidationError:
            code_limits.code_guess_failed(target=target)
            if subject:
                lockout.login_failed(subject=subject, ip=client_ip(request))
            raise
        code_limits.code_guess_passed(target=target)
        return code


class VerifyPhoneForm(AllauthVerifyPhoneForm):
    def clean_code(self) -> str:
        pending = codes.pending(context.request)
        target = pending[0] if pending else _target_for(address=self.phone or "", user=self.user)
        _check(code_limits.code_guess_check, target=target)
        try:
            code = super().clean_code()
        except ValidationError:
            code_limits.code_guess_failed(target=target)
            raise
        code_limits.code_guess_passed(target=target)
        return code


class ChangePhoneForm(AllauthChangePhoneForm):
    def clean_phone(self) -> str:
        phone = super().clean_phone()
        _check(code_limits.code_send_check, target=_target_for(address=phone, user=self.user))
        return phone


def _lockout_counted(*, user, clean_code: Callable[[], str]) -> str:
    """A second-factor code: refused while the account is locked from this address, and a
    wrong one counts as a failed sign-in (allauth's own MFA rate limit is `login_failed`,
    switched off in ACCOUNT_RATE_LIMITS)."""
    request = context.request
    subject = lockout.user_subject(user=user)
    refuse_if_locked(request, subject=subject)
    try:
        return clean_code()
    except ValidationError:
        lockout.login_failed(subject=subject, ip=client_ip(request))
        raise


class MfaAuthenticateForm(AllauthMfaAuthenticateForm):
    def clean_code(self) -> str:
        return _lockout_counted(user=self.user, clean_code=super().clean_code)


class MfaReauthenticateForm(AllauthMfaReauthenticateForm):
    def clean_code(self) -> str:
        return _lockout_counted(user=self.user, clean_code=super().clean_code)


class ActivateTotpForm(AllauthActivateTOTPForm):
    def clean_code(self) -> str:
        code = super().clean_code()
        # A valid code of the app being set up proves it, as a sign-in code would: the session
        # need not be asked for a second one right away (`portal.auth.policy`). Marked here,
        # in the request, because allauth announces the new authenticator only after commit.
        mark_session_mfa_set_up(context.request.session, self.user)
        return code
