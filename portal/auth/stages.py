"""Login stages that differ from allauth's defaults."""

from __future__ import annotations

from allauth.account.stages import PhoneVerificationStage


class SignupPhoneVerificationStage(PhoneVerificationStage):
    """Ask for the SMS code of a phone given at sign-up, and only then.

    allauth would also stop every later sign-in of a login whose phone is unverified, e.g. a
    card's number typed at the desk: a typo there would lock the patient out. Such numbers are
    confirmed on the Security page instead, and do not sign anyone in until they are.
    """

    def handle(self):
        if not self.login.signup:
            return None, True
        return super().handle()
