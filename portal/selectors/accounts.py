"""Read paths of the signed-in user's own account (the Security page)."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from portal.auth.policy import is_staff_login, mfa_exempt, mfa_required
from portal.models import User
from portal.normalize import format_phone
from portal.services.accounts import own_patient


@dataclass(frozen=True)
class SecurityOverview:
    emails: list[EmailAddress]
    phone: str
    phone_display: str
    is_staff: bool
    phone_verified: bool
    has_patient: bool
    has_totp: bool
    recovery_codes_left: int | None
    mfa_required: bool
    mfa_exempt: bool
    has_password: bool


def security_overview(*, user: User) -> SecurityOverview:
    """What protects `user`'s login: addresses, phone, password and MFA state."""
    authenticators = {a.type: a for a in Authenticator.objects.filter(user_id=user.pk)}
    recovery = authenticators.get(Authenticator.Type.RECOVERY_CODES)
    patient = own_patient(user)
    return SecurityOverview(
        emails=list(EmailAddress.objects.filter(user_id=user.pk).order_by("-primary", "email")),
        phone=patient.phone if patient else "",
        phone_display=format_phone(patient.phone) if patient else "",
        is_staff=is_staff_login(user),
        phone_verified=bool(patient and patient.phone and patient.phone_verified_at),
        has_patient=patient is not None,
        has_totp=Authenticator.Type.TOTP in authenticators,
        recovery_codes_left=len(recovery.wrap().get_unused_codes()) if recovery else None,
        mfa_required=mfa_required(user),
        mfa_exempt=is_staff_login(user) and mfa_exempt(user),
        has_password=user.has_usable_password(),
    )


def verified_login_email(*, user: User) -> str:
    """The login's verified e-mail (primary first), or "" when none is verified."""
    address = (
        EmailAddress.objects.filter(user_id=user.pk, verified=True)
        .order_by("-primary", "pk")
        .values_list("email", flat=True)
        .first()
    )
    return address or ""
