"""Read paths of the signed-in user's own account (the Security page)."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from portal.auth.policy import is_staff_login, mfa_exempt, mfa_required
from portal.crypto import blind_index
from portal.models import ApiToken, User
from portal.models.patients import BIDX_PHONE
from portal.normalize import canonical_login, format_phone
from portal.selectors.api_tokens import api_tokens_of
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
    api_tokens: list[ApiToken]


def security_overview(*, user: User) -> SecurityOverview:
    """What protects `user`'s login: addresses, phone, password, MFA state and the apps
    signed in through the API."""
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
        api_tokens=api_tokens_of(user=user),
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


def login_by_phone(*, phone: str) -> User | None:
    """The one active login whose profile holds `phone` (E.164) as a verified number.

    A number on two profiles signs in neither: it would be a guess which one is meant.
    """
    users = list(
        User.objects.filter(
            is_active=True,
            patient__phone_bidx=blind_index(BIDX_PHONE, phone),
            patient__phone_verified_at__isnull=False,
            patient__anonymised_at__isnull=True,
        ).order_by("pk")[:2]
    )
    return users[0] if len(users) == 1 else None


def login_for_identifier(*, identifier: str) -> User | None:
    """The login an identifier typed at any sign-in names, in any spelling (`canonical_login`):
    an e-mail of the login (its addresses or its own field), or its verified phone."""
    canonical = canonical_login(identifier)
    if "@" not in canonical:
        return login_by_phone(phone=canonical) if canonical.startswith("+") else None
    user_id = (
        EmailAddress.objects.filter(email__iexact=canonical)
        .order_by("-verified", "-primary", "pk")
        .values_list("user_id", flat=True)
        .first()
    )
    if user_id is not None:
        return User.objects.filter(pk=user_id).first()
    return User.objects.filter(email__iexact=canonical).order_by("pk").first()
