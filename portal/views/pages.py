"""Public pages (landing, health check), the language switch and each role's home page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language
from django_stubs_ext import StrOrPromise

from portal import permissions
from portal.choices import PATIENT_ROLE, Role
from portal.language import remember_choice
from portal.panels import LANDING, PATIENT_HOME, panels_for
from portal.selectors.consents import consent_overview
from portal.selectors.family import dependant_links
from portal.selectors.health import health_report
from portal.selectors.network import (
    active_clinics,
    clinics_by_city,
    clinics_for_role,
    network_counts,
    staff_counts_by_clinic,
    utc_offset_label,
)

# What each capability lets a role do, in words (the role's scope on its home page).
CAPABILITY_LABELS = {
    "patient.search": _("Find patients across the network"),
    "patient.view_card": _("Open patient cards (each view is audited)"),
    "patient.create": _("Register new patients"),
    "patient.update": _("Correct patient profiles"),
    "appointment.view": _("See appointments"),
    "appointment.book": _("Book appointments"),
    "appointment.manage": _("Move and cancel appointments"),
    "appointment.complete": _("Mark visits as done"),
    "appointment.rollback": _("Undo a visit's status"),
    "schedule.view": _("See schedules"),
    "schedule.manage": _("Edit schedules, rooms and equipment"),
    "substitution.arrange": _("Arrange substitutions"),
    "catalogue.manage": _("Manage prices and promotions"),
    "crm.use": _("Work with leads and campaigns"),
    "analytics.view": _("See network KPIs"),
    "analytics.targets": _("Set KPI targets"),
    "audit.view": _("Read the audit trail"),
    "outbox.view": _("Read the message outbox"),
    "messages.view": _("Read the message log"),
    "messages.manage": _("Edit message texts"),
    "network.manage": _("Manage clinics and staff"),
}

# Keyed by the role's code: memberships and the role switcher carry plain strings.
ROLE_INTROS: dict[str, StrOrPromise] = {
    Role.REGISTRAR: _("Front desk: the day board, booking, and patients of your clinics."),
    Role.HEAD_NURSE: _("Clinic operations: schedules, rooms and equipment of your clinics."),
    Role.DOCTOR: _("Your patients and visits in the clinics where you work."),
    Role.CLINIC_ADMIN: _("Your clinics' staff, prices and promotions."),
    Role.MARKETER: _("Leads, campaigns and their results across the network."),
    Role.DIRECTOR: _("How the network is doing: visits, revenue and quality."),
    Role.NETWORK_ADMIN: _("Clinics, staff, messages and the audit trail of the whole network."),
}


@dataclass(frozen=True)
class Tool:
    label: str
    description: str
    url: str


# (url name, capability, role or None for everyone, label, description). Only links that
# resolve are shown, so a home page never points at a page that does not exist yet.
TOOLS = (
    (
        "scheduling:doctor_day",
        Role.DOCTOR,
        _("My day"),
        _("Your visits today and this week in every clinic; notes for patients; days off."),
    ),
    (
        "scheduling:desk",
        "schedule.view",
        _("Day board"),
        _("Doctors and times of the day: book a call or a walk-in, check in, move, cancel."),
    ),
    (
        "scheduling:desk_queues",
        "appointment.book",
        _("Desk queues"),
        _("Visits to rebook after a closure or a doctor's leave; people to ring back."),
    ),
    (
        "scheduling:leave_requests",
        "schedule.manage",
        _("Leave requests"),
        _("Approve or decline doctors' days off and substitutions."),
    ),
    (
        "scheduling:schedule",
        "schedule.manage",
        _("Schedules"),
        _("Doctors' weekly hours, absences and extra hours, and the clinic's booking policy."),
    ),
    (
        "scheduling:nurse",
        "schedule.manage",
        _("Quotas and rooms"),
        _("Booking quotas by day and channel, load of rooms and equipment, closures."),
    ),
    (
        "portal:patient_search",
        "patient.search",
        _("Find a patient"),
        _("By phone, e-mail, name with birth date, or last 4 digits and surname."),
    ),
    (
        "portal:patient_create",
        "patient.create",
        _("New patient"),
        _("Register a patient after checking for duplicates."),
    ),
    (
        "crm:leads",
        "crm.use",
        _("Leads"),
        _("Enquiries from the website, calls and walk-ins: contact them in time, see who booked."),
    ),
    (
        "crm:funnel",
        "crm.use",
        _("Funnel"),
        _("Which sources and campaigns brought leads, visits and revenue, against their cost."),
    ),
    (
        "crm:segments",
        "crm.use",
        _("Segments"),
        _("Patients by last visit, specialty, no-shows, spend and consent, counted live."),
    ),
    (
        "crm:campaigns",
        "crm.use",
        _("Campaigns"),
        _("Bring patients back by SMS, e-mail or Telegram, with consent and STOP honoured."),
    ),
    (
        "crm:inbox",
        "assistant.answer",
        _("Assistant inbox"),
        _("Conversations the assistant handed over: answer in the same thread."),
    ),
    (
        "crm:knowledge",
        "knowledge.manage",
        _("Knowledge base"),
        _("Answers, preparation and directions the assistant cites."),
    ),
    (
        "crm:imports",
        "patient.import",
        _("Import patients"),
        _("Patients and visit history from CSV or Excel, with duplicates found before merging."),
    ),
    (
        "analytics:dashboard",
        "analytics.view",
        _("KPI dashboard"),
        _("Bookings, no-shows, utilisation, demand and revenue, against targets and last year."),
    ),
    (
        "portal:audit_log",
        "audit.view",
        _("Audit trail"),
        _("Who touched which patient data, when and from where."),
    ),
    (
        "scheduling:catalogue",
        "catalogue.manage",
        _("Prices and promotions"),
        _("Services, your clinic's prices from a day on, discounts and promo codes."),
    ),
    (
        "notifications:message_log",
        "messages.view",
        _("Message log"),
        _("Messages to patients of your clinics: status, attempts and errors."),
    ),
    (
        "notifications:message_texts",
        "messages.manage",
        _("Message texts"),
        _("What patients receive for each event, by channel and language."),
    ),
    (
        "notifications:outbox",
        "outbox.view",
        _("Message outbox"),
        _("Every e-mail and SMS the development sender delivered."),
    ),
    (
        "scheduling:connectors",
        "network.manage",
        _("Connectors"),
        _("Clinics served by external schedule systems: settings, health and calls."),
    ),
    (
        "admin:index",
        "network.manage",
        _("Administration"),
        _("Clinics, legal entities, users and memberships."),
    ),
    (
        "api-docs",
        "network.manage",
        _("API documentation"),
        _("REST API for integrations and aggregators."),
    ),
    (
        "portal:profile",
        PATIENT_ROLE,
        _("My patient account"),
        _("Your own profile, family and consents."),
    ),
    (
        "portal:security",
        None,
        _("Sign-in and security"),
        _("Password, two-factor authentication and sessions."),
    ),
)


def _url_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _tools_for(user) -> list[Tool]:
    tools = []
    for url_name, need, label, description in TOOLS:
        if need == PATIENT_ROLE:
            allowed = permissions.is_patient(user)
        elif need == Role.DOCTOR:
            allowed = Role.DOCTOR in permissions.staff_roles(user)
        elif need is not None:
            allowed = permissions.has_capability(user, need)
        else:
            allowed = True
        if url_name == "notifications:outbox" and not settings.DEV_OUTBOX_ENABLED:
            allowed = False
        if url_name == "admin:index" and not user.is_staff:
            allowed = False
        url = _url_or_none(url_name) if allowed else None
        if url:
            tools.append(Tool(label=str(label), description=str(description), url=url))
    return tools


def _access_for(role: str) -> list[str]:
    return [
        str(label)
        for capability, label in CAPABILITY_LABELS.items()
        if role in permissions.CAPABILITIES[capability]
    ]


def _clinic_rows(clinics) -> list[dict]:
    return [{"clinic": c, "utc_offset": utc_offset_label(c)} for c in clinics]


# --- Public ----------------------------------------------------------------------------------


def landing(request):
    cities = clinics_by_city()
    return render(
        request,
        "portal/landing.html",
        {
            "cities": cities,
            "clinic_count": sum(len(city.rows) for city in cities),
            "signup_url": _url_or_none("account_signup"),
            "panels": panels_for(LANDING, request),
        },
    )


@never_cache
def healthz(request):
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@require_POST
def set_language(request):
    """Django's language switch (cookie, no URL prefix) that also remembers the choice: on the
    signed-in user, so it follows them to another device, or in the session until sign-in."""
    response = django_set_language(request)
    remember_choice(request, request.POST.get("language", ""))
    return response


# --- Home pages ------------------------------------------------------------------------------


@login_required
def home(request):
    """The signed-in user's home, chosen by their primary role."""
    user = request.user
    role = permissions.primary_role(user)
    if role is None:
        onboarding = _url_or_none("portal:onboarding")
        if onboarding:
            return redirect(onboarding)
        return render(request, "portal/home/no_role.html", {"role": None})
    if role == PATIENT_ROLE:
        context = {**_patient_context(user), "panels": panels_for(PATIENT_HOME, request)}
        return render(request, "portal/home/patient.html", context)
    return render(request, f"portal/home/{role}.html", _staff_context(user, role))


def _patient_context(user) -> dict:
    me = user.patient
    links = dependant_links(patient=me)
    language = translation.get_language() or settings.LANGUAGE_CODE
    lines = consent_overview(patient=me, language=language)
    return {
        "role": PATIENT_ROLE,
        "me": me,
        "links": links,
        "lines": lines,
        "attention": [line for line in lines if line.needs_attention],
        # A card made at the front desk may have none; onboarding asks new patients.
        "needs_home_clinic": me.home_clinic_id is None and active_clinics().exists(),
        "active_count": sum(1 for line in lines if line.is_active),
        "security_url": _url_or_none("portal:security"),
    }


def _staff_context(user, role: str) -> dict:
    other_roles = sorted(permissions.staff_roles(user) - {role})
    context: dict[str, Any] = {
        "role": role,
        "role_label": Role(role).label,
        "intro": ROLE_INTROS.get(role, ""),
        "other_roles": [Role(r).label for r in other_roles],
        "clinics": _clinic_rows(clinics_for_role(user=user, role=role)),
        "tools": _tools_for(user),
        "access": _access_for(role),
        "search_url": (
            _url_or_none("portal:patient_search")
            if permissions.has_capability(user, "patient.search")
            else None
        ),
        "create_url": (
            _url_or_none("portal:patient_create")
            if permissions.has_capability(user, "patient.create")
            else None
        ),
    }
    if role == Role.REGISTRAR:
        # The desk's search box and "new patient" button stand above; no duplicate tiles.
        shown = {context["search_url"], context["create_url"]}
        context["tools"] = [tool for tool in context["tools"] if tool.url not in shown]
    if role == Role.NETWORK_ADMIN:
        staff_by_clinic = staff_counts_by_clinic(user=user)
        context["counts"] = network_counts(user=user)
        for row in context["clinics"]:
            row["staff"] = staff_by_clinic.get(row["clinic"].pk, 0)
    return context
