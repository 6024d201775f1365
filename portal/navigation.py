"""Navigation entries per role; templates only render what this returns."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from portal import permissions
from portal.choices import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str


# (capability, "patient", "doctor" (the doctor's role) or "signed_in", url name, label)
NAV_ENTRIES = [
    ("patient", "portal:home", _("My account")),
    ("patient", "scheduling:visits", _("My visits")),
    ("patient", "scheduling:find_care", _("Book a visit")),
    ("patient", "scheduling:documents", _("Documents")),
    ("patient", "portal:family", _("Family")),
    ("patient", "portal:consents", _("Consents")),
    ("doctor", "scheduling:doctor_day", _("My day")),
    ("schedule.view", "scheduling:desk", _("Day board")),
    ("appointment.manage", "scheduling:desk_waitlist", _("Waiting list")),
    ("schedule.manage", "scheduling:schedule", _("Schedules")),
    ("schedule.manage", "scheduling:nurse", _("Quotas and rooms")),
    ("patient.search", "portal:patient_search", _("Patients")),
    ("telephony.answer", "telephony:calls", _("Calls")),
    ("catalogue.manage", "scheduling:catalogue", _("Prices")),
    ("assistant.answer", "crm:inbox", _("Inbox")),
    ("crm.use", "crm:leads", _("Leads")),
    ("crm.use", "crm:tasks", _("Tasks")),
    ("crm.use", "crm:funnel", _("Funnel")),
    ("crm.use", "crm:segments", _("Segments")),
    ("crm.use", "crm:campaigns", _("Campaigns")),
    ("knowledge.manage", "crm:knowledge", _("Knowledge base")),
    ("patient.import", "crm:imports", _("Import")),
    ("patient.merge", "crm:duplicates", _("Duplicates")),
    ("outbox.view", "notifications:outbox", _("Outbox")),
    ("analytics.view", "analytics:dashboard", _("Dashboard")),
    ("audit.view", "portal:audit_log", _("Audit")),
    ("signed_in", "portal:security", _("Security")),
]


# Pages that exist only while a setting is on.
NAV_SETTINGS_REQUIRED = {"notifications:outbox": "DEV_OUTBOX_ENABLED"}


def navigation_for(request) -> list[NavItem]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    items = []
    for need, url_name, label in NAV_ENTRIES:
        required_setting = NAV_SETTINGS_REQUIRED.get(url_name)
        if required_setting and not getattr(settings, required_setting):
            continue
        if need == "signed_in":
            allowed = True
        elif need == "patient":
            allowed = permissions.is_patient(user)
        elif need == "doctor":
            allowed = Role.DOCTOR in permissions.staff_roles(user)
        else:
            allowed = permissions.has_capability(user, need)
        if not allowed:
            continue
        try:
            items.append(NavItem(label=str(label), url=reverse(url_name)))
        except NoReverseMatch:
            continue
    return items
