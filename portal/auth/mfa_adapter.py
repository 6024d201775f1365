"""allauth.mfa adapter: authenticator secrets encrypted at rest; staff keep their TOTP."""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.utils.translation import gettext_lazy as _

from portal.auth.policy import mfa_required
from portal.crypto import decrypt_text, encrypt_text


class MFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": _(
            "Your role requires two-factor authentication, so the authenticator app stays on."
        ),
    }

    def get_totp_issuer(self) -> str:
        return super().get_totp_issuer() or "Medfront"

    def encrypt(self, text: str) -> str:
        # TOTP secrets and recovery-code seeds are as sensitive as passwords: never in clear.
        return encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_text(encrypted_text)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        if authenticator.type == Authenticator.Type.TOTP and mfa_required(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)
