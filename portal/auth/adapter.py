"""Medfront's allauth adapter: phones on the encrypted profile, SMS through the outbox, one
spelling per identifier, lockout per account + IP, code limits, card claiming and onboarding
after sign-in."""

from __future__ import annotations

import math
import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.core import context
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.auth import codes, mail, phone_session, sms
from portal.auth.forms import PhoneField
from portal.auth.policy import is_staff_login, mfa_missing
from portal.normalize import canonical_login, normalize_phone
from portal.request_context import client_ip
from portal.selectors.accounts import login_by_phone, login_for_identifier
from portal.services import accounts, code_limits, lockout


def needs_onboarding(user) -> bool:
    """A signed-in non-staff login without a patient profile."""
    return (
        getattr(user, "is_authenticated", False)
        and not is_staff_login(user)
        and accounts.own_patient(user) is None
    )


def _credentials_identifier(credentials: dict) -> str:
    """The identifier a sign-in attempt names (never logged)."""
    return str(credentials.get("email") or credentials.get("phone") or "")


def _typed_password_recently(request, user) -> bool:
    """The session's latest sign-in step was `user`'s password, within allauth's
    reauthentication timeout."""
    records = get_authentication_records(request, user)
    if not records or records[-1].get("method") != "password":
        return False
    return time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT


def refuse_if_locked(request, *, subject: str) -> None:
    """Raise the locked error when `subject` may not try to sign in from this address now:
    the one message of every way in that shows a form."""
    seconds = lockout.login_locked_for(subject=subject, ip=client_ip(request))
    if seconds:
        raise ValidationError(
            AccountAdapter.error_messages["login_locked"],
            code="login_locked",
            params={"minutes": max(1, math.ceil(seconds / 60))},
        )


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "login_locked": _(
            "Too many failed sign-in attempts for this account from your network. "
            "Try again in %(minutes)d minutes or reset your password."
        ),
        # allauth shows this when a code may not be resent (`portal.services.code_limits`).
        "rate_limited": _(
            "Too many codes were requested for this phone or account. "
            "Please wait a few minutes before asking for another one."
        ),
    }

    # --- Client address and lockout -----------------------------------------------------------

    def get_client_ip(self, request) -> str:
        # The same trusted-proxy rule as the audit trail and the API lockout.
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client address")
        return ip

    def pre_authenticate(self, request, **credentials) -> None:
        """Refuse a locked account + IP pair before the password is even checked.

        allauth's own per-account counter is switched off (ACCOUNT_RATE_LIMITS): it would lock
        the account from every address, which lets anyone lock out a colleague. The count is
        cleared only when a sign-in completes (`portal.auth.receivers`), not by a right password
        alone: a second factor still to come would otherwise get fresh guesses per password.
        """
        subject = lockout.lockout_subject(identifier=_credentials_identifier(credentials))
        refuse_if_locked(request, subject=subject)

    def authenticate(self, request, **credentials):
        # The canonical spelling for the lookup too, so the account found is the one counted.
        for name in ("email", "phone"):
            if credentials.get(name):
                credentials[name] = canonical_login(str(credentials[name]))
        return super().authenticate(request, **credentials)

    def authentication_failed(self, request, **credentials) -> None:
        subject = lockout.lockout_subject(identifier=_credentials_identifier(credentials))
        lockout.login_failed(subject=subject, ip=client_ip(request))

    def clean_email(self, email: str) -> str:
        # New addresses are stored in the spelling every lookup and counter uses.
        return canonical_login(super().clean_email(email))

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = context.request
        # The middleware sends a staff member without MFA straight on to set it up, which asks
        # for the password again; the one typed at sign-in a moment ago is proof enough.
        return not (
            request is not None
            and mfa_missing(request.user)
            and _typed_password_recently(request, request.user)
        )

    # --- Phones: only on the encrypted Patient profile ----------------------------------------

    def phone_form_field(self, **kwargs):
        return PhoneField(**kwargs)

    def get_user_by_phone(self, phone: str):
        """The one active login whose profile holds `phone` as a verified number."""
        try:
            e164 = normalize_phone(phone)
        except ValidationError:
            return None
        return login_by_phone(phone=e164)

    def get_phone(self, user) -> tuple[str, bool] | None:
        patient = accounts.own_patient(user)
        if patient is not None:
            if not patient.phone:
                return None
            return patient.phone, patient.phone_verified_at is not None
        return phone_session.recall(context.request, user=user)

    def set_phone(self, user, phone: str, verified: bool) -> None:
        if accounts.account_phone_set(user=user, phone=phone, verified=verified) is None:
            phone_session.remember(context.request, user=user, phone=phone, verified=verified)

    def set_phone_verified(self, user, phone: str) -> None:
        patient = accounts.account_phone_verified(user=user, phone=phone)
        if patient is None:
            # No profile yet and no card to claim: onboarding picks the number up.
            phone_session.remember(context.request, user=user, phone=phone, verified=True)
        else:
            phone_session.forget(context.request)

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        # A code to a number the login already proved is a sign-in code; any other number is
        # being verified (sign-up, phone change).
        current = self.get_phone(user)
        event = (
            sms.EVENT_LOGIN_CODE
            if current is not None and current == (phone, True)
            else sms.EVENT_VERIFY_PHONE
        )
        patient = accounts.own_patient(user)
        self._count_code(user=user, patient=patient, address=phone)
        sms.send_auth_sms(
            event=event,
            phone=phone,
            context={"code": code},
            patient=patient,
            request=context.request,
        )

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        if template_prefix == "account/email/login_code":
            # Sign-in codes by e-mail share the limits of SMS codes (per address and person).
            user = login_for_identifier(identifier=email)
            patient = accounts.own_patient(user) if user is not None else None
            self._count_code(user=user, patient=patient, address=email)
        elif template_prefix == "account/email/unknown_account" and not self._may_notify(email):
            # "No account here" answers a code request for an unknown address: counted like a
            # code, so nobody floods a stranger's mailbox, and skipped silently when over.
            return
        mail.send_auth_mail(adapter=self, template_prefix=template_prefix, email=email, **context)

    def format_email_subject(self, subject: str) -> str:
        # The network's name, as patients know it; allauth's default is the host name.
        return f"{settings.NETWORK_NAME}: {subject}"

    @staticmethod
    def _may_notify(address: str) -> bool:
        try:
            code_limits.code_send(target=code_limits.code_target(address=address, people=[]))
        except code_limits.CodeLimitReached:
            return False
        return True

    def _count_code(self, *, user, patient, address: str) -> None:
        """Count a code about to go out, or refuse it (429, or allauth's resend message)."""
        target = code_limits.code_target(
            address=address, people=[code_limits.person_of(patient=patient, user=user)]
        )
        try:
            code_limits.code_send(target=target)
        except code_limits.CodeLimitReached as exc:
            raise codes.CodeRateLimited(exc) from exc
        subject = lockout.user_subject(user=user) if user is not None else ""
        codes.remember(context.request, target=target, subject=subject)

    def send_account_already_exists_sms(self, phone: str) -> None:
        # Counted like a code (SMS pumping), and skipped silently when over: a sign-up form
        # must look the same whether the number is known or not.
        if self._may_notify(phone):
            sms.send_auth_sms(
                event=sms.EVENT_ACCOUNT_EXISTS, phone=phone, context={}, request=context.request
            )

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        # Deliberately silent: texting any number typed into a form would let strangers run
        # up SMS costs (SMS pumping). The page looks the same either way.
        return None

    # --- E-mail confirmation claims a card ----------------------------------------------------

    def confirm_email(self, request, email_address) -> bool:
        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            accounts.patient_claim_by_verified_email(
                user=email_address.user, email=email_address.email
            )
        return confirmed

    def post_login(self, request, user, **kwargs):
        # Addresses can also be verified by a sign-in code (no confirm_email call), and a
        # registrar may have created the card after the sign-up: try the claim at each sign-in.
        if needs_onboarding(user):
            for email in EmailAddress.objects.filter(user=user, verified=True).values_list(
                "email", flat=True
            ):
                if accounts.patient_claim_by_verified_email(user=user, email=email):
                    break
        return super().post_login(request, user, **kwargs)

    def get_login_stages(self) -> list[str]:
        return [
            "portal.auth.stages.SignupPhoneVerificationStage"
            if path == "allauth.account.stages.PhoneVerificationStage"
            else path
            for path in super().get_login_stages()
        ]

    # --- Where to go after signing in --------------------------------------------------------

    def get_login_redirect_url(self, request) -> str:
        if needs_onboarding(request.user):
            return reverse("portal:onboarding")
        return super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request) -> str:
        if needs_onboarding(request.user):
            return reverse("portal:onboarding")
        return super().get_signup_redirect_url(request)
