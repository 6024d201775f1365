"""Django model permissions derived from Medfront capabilities, for the admin site.

The admin checks `user.has_perm("app.change_model")`; instead of keeping Django groups in step
with memberships, network administrators (capability `network.manage`) are granted the
reference-data models here. Patient data, the audit trail, consents, appointments and the
outbox are never editable in the admin: their writes must go through services that audit.
"""

from __future__ import annotations

from portal.permissions import has_capability

ADMIN_MANAGED_MODELS = {
    "portal": {"clinic", "legalentity", "staffmembership", "user", "consentdocument"},
    "scheduling": {
        "specialty",
        "service",
        "doctor",
        "equipmenttype",
        "room",
        "equipment",
        "schedulerule",
        "scheduleexception",
        "substitution",
        "quota",
        "bookingpolicy",
        "clinicbookingsettings",
    },
    # Accounts and lines are set up here; calls and callbacks are shown read-only.
    "telephony": {"telephonyaccount", "telephonyline", "lineanswerer", "call", "callbackrequest"},
}


def _managed(perm: str) -> bool:
    app_label, _sep, codename = perm.partition(".")
    _action, _sep, model = codename.partition("_")
    return model in ADMIN_MANAGED_MODELS.get(app_label, set())


class CapabilityPermissionBackend:
    """Grants admin model permissions to network administrators; authenticates nobody."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active or not _managed(perm):
            return False
        return has_capability(user_obj, "network.manage")

    def has_module_perms(self, user_obj, app_label):
        if not user_obj.is_active or app_label not in ADMIN_MANAGED_MODELS:
            return False
        return has_capability(user_obj, "network.manage")
