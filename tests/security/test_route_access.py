"""Every route of the site, the API and FHIR, walked as anonymous and as each role (issue #11).

`ROUTES` says who may use each route (NetBox-style generated access tests): every URL pattern
that `django.urls.get_resolver()` knows must have an entry, so a new route fails this test until
its access is declared. Each route is requested with GET and POST (the admin's with GET only: a
POST there writes) with placeholder ids, as anonymous and as every persona:

- who may not use it gets the documented refusal: a redirect to sign-in for anonymous on a page
  (401 problem+json or OperationOutcome on the API and FHIR), 403 or 404 for a signed-in role
  (404: unknown or someone else's), 405 where the method does not exist;
- who may use it gets no refusal (placeholder ids may well be 404);
- nobody ever gets a 5xx.

API and FHIR views are private unless marked `portal.api.access.public`: the mark must agree with
the table, and no view may let anonymous callers in without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from portal.api.access import is_public
from portal.choices import Role
from portal.permissions import CAPABILITIES
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
PATIENT = "patient"
STAFF_PERSONAS = {
    Role.REGISTRAR: "registrar_a",
    Role.HEAD_NURSE: "head_nurse_a",
    Role.DOCTOR: "doctor_a",
    Role.CLINIC_ADMIN: "clinic_admin_a",
    Role.MARKETER: "marketer",
    Role.DIRECTOR: "director",
    Role.NETWORK_ADMIN: "network_admin",
}
PERSONAS = [ANONYMOUS, PATIENT, *STAFF_PERSONAS.values()]
SIGNED_IN = frozenset(PERSONAS) - {ANONYMOUS}


@dataclass(frozen=True)
class Access:
    """Who may use a route; everyone else is refused."""

    allowed: frozenset[str]
    why: str = ""
    # Who may POST, where that differs (e.g. anyone signed in lists visits, fewer book them).
    post: frozenset[str] | None = None
    # The admin checks each model's permissions after letting a user in: a 403 for one action
    # is no refusal of the route.
    per_action_checks: bool = False

    def allows(self, persona: str, method: str) -> bool:
        who = self.post if method == "post" and self.post is not None else self.allowed
        return persona in who

    @property
    def public(self) -> bool:
        return ANONYMOUS in self.allowed


def capability(name: str) -> Access:
    """The staff roles holding `name` in `portal.permissions.CAPABILITIES`."""
    return Access(frozenset(STAFF_PERSONAS[Role(role)] for role in CAPABILITIES[name]), name)


PUBLIC = Access(frozenset(PERSONAS), "public")
ANY_SIGNED_IN = Access(SIGNED_IN, "signed in")
PATIENTS = Access(frozenset({PATIENT}), "patients")
NETWORK_ADMIN = Access(
    frozenset({"network_admin"}), "network.manage (admin site)", per_action_checks=True
)
DOCTOR_OWN = Access(frozenset({"doctor_a"}), "the doctor's own day (a doctor profile)")
BOOKERS = frozenset({PATIENT}) | capability("appointment.book").allowed

ROUTES: dict[str, Access] = {
    # --- Portal pages -------------------------------------------------------------------------
    "": PUBLIC,
    "home/": ANY_SIGNED_IN,
    "healthz": PUBLIC,
    "language/": PUBLIC,
    "me/welcome/": ANY_SIGNED_IN,
    "me/security/": ANY_SIGNED_IN,
    "me/security/apps/<uuid:public_id>/sign-out/": ANY_SIGNED_IN,
    "me/": PATIENTS,
    "me/edit/": PATIENTS,
    "me/family/": PATIENTS,
    "me/family/add/": PATIENTS,
    "me/family/<uuid:public_id>/": PATIENTS,
    "me/family/<uuid:public_id>/edit/": PATIENTS,
    "me/family/<uuid:public_id>/notifications/": PATIENTS,
    "me/family/<uuid:public_id>/unlink/": PATIENTS,
    "me/consents/": PATIENTS,
    "me/consents/<uuid:public_id>/<slug:purpose>/": PATIENTS,
    "me/consents/<uuid:public_id>/<slug:purpose>/withdraw/": PATIENTS,
    "me/notifications/": PATIENTS,
    "me/telegram/": PATIENTS,
    "me/telegram/unlink/": PATIENTS,
    "staff/patients/": capability("patient.search"),
    "staff/patients/new/": capability("patient.create"),
    "staff/patients/<uuid:public_id>/": capability("patient.view_card"),
    "staff/patients/<uuid:public_id>/edit/": capability("patient.update"),
    "staff/audit/": capability("audit.view"),
    "notifications/outbox/": capability("outbox.view"),
    # The message log (read-only, addresses masked) and the message texts per event.
    "notifications/messages/": capability("messages.view"),
    "notifications/texts/": capability("messages.manage"),
    "notifications/texts/<str:scope>/<str:event>/<str:channel>/<str:language>/": capability(
        "messages.manage"
    ),
    "notifications/texts/<str:scope>/<str:event>/<str:channel>/<str:language>/preview/": (
        capability("messages.manage")
    ),
    # Development only (404 otherwise): the messages this browser's own session caused.
    "notifications/outbox/mine/": PUBLIC,
    # SMS providers' delivery reports (POST only): SMS.ru's behind the secret token in its
    # address (wrong or unset: 404), Twilio's signed (unsigned: 403; no URL configured: 404).
    "notifications/sms/smsru/<str:token>/status/": Access(frozenset(PERSONAS), "secret address"),
    "notifications/sms/twilio/status/": Access(frozenset(PERSONAS), "signed webhook"),
    # Replies: Twilio's inbound SMS signed like its status callbacks; the Telegram bot's
    # updates carry its secret header (missing or wrong: 403; no secret configured: 404).
    "notifications/sms/twilio/inbound/": Access(frozenset(PERSONAS), "signed webhook"),
    "notifications/telegram/webhook/": Access(frozenset(PERSONAS), "secret header"),
    # --- Analytics ------------------------------------------------------------------------------
    # Clinic admins see their own clinics' figures; exports follow the dashboard's access.
    "analytics/": capability("analytics.view"),
    "analytics/glossary/": capability("analytics.view"),
    "analytics/export/accounting.csv": capability("analytics.view"),
    "analytics/export/accounting.xml": capability("analytics.view"),
    "analytics/export/<slug:table>.<slug:fmt>": capability("analytics.view"),
    "analytics/targets/<uuid:clinic>/": capability("analytics.targets"),
    # --- Telephony ------------------------------------------------------------------------------
    # Provider webhooks: signed with the account's secret (unknown account: 404, unsigned: 403).
    "telephony/generic/<uuid:account>/events/": Access(frozenset(PERSONAS), "signed webhook"),
    "telephony/mango/<uuid:account>/events/<slug:kind>": Access(
        frozenset(PERSONAS), "signed webhook"
    ),
    "telephony/zadarma/<uuid:account>/": Access(frozenset(PERSONAS), "signed webhook"),
    "telephony/desk/caller/": capability("telephony.answer"),
    "telephony/calls/": capability("telephony.answer"),
    "telephony/callbacks/<uuid:public_id>/done/": capability("telephony.answer"),
    "telephony/calls/<uuid:public_id>/new-patient/": capability("telephony.answer"),
    # --- CRM ----------------------------------------------------------------------------------
    "crm/form/": PUBLIC,
    "crm/embed.js": PUBLIC,
    # The assistant's chat (anyone; a conversation is the session's or the patient's own) and
    # the operators' inbox of handed-over conversations.
    "crm/assistant/": PUBLIC,
    "crm/inbox/": capability("assistant.answer"),
    "crm/inbox/<uuid:public_id>/": capability("assistant.answer"),
    "crm/inbox/<uuid:public_id>/close/": capability("assistant.answer"),
    "crm/leads/": capability("crm.use"),
    "crm/leads/<uuid:public_id>/": capability("crm.use"),
    "crm/leads/<uuid:public_id>/<slug:action>/": capability("crm.use"),
    "crm/leads/<uuid:public_id>/tasks/": capability("crm.use"),
    "crm/tasks/": capability("crm.use"),
    "crm/tasks/<int:pk>/done/": capability("crm.use"),
    "crm/funnel/": capability("crm.use"),
    "crm/segments/": capability("crm.use"),
    "crm/campaigns/": capability("crm.use"),
    "crm/campaigns/<int:pk>/": capability("crm.use"),
    "crm/campaigns/<int:pk>/send/": capability("crm.use"),
    "crm/segments/count/": capability("crm.use"),
    "crm/segments/<int:pk>/delete/": capability("crm.use"),
    "crm/exports/offline-conversions.csv": capability("crm.use"),
    # The assistant's knowledge base; published articles are public (the answers cite them).
    "crm/knowledge/": capability("knowledge.manage"),
    "crm/knowledge/<uuid:public_id>/": capability("knowledge.manage"),
    "crm/knowledge/<uuid:public_id>/delete/": capability("knowledge.manage"),
    "crm/help/<uuid:public_id>/": PUBLIC,
    "crm/import/": capability("patient.import"),
    "crm/import/<uuid:public_id>/": capability("patient.import"),
    "crm/import/<uuid:public_id>/progress/": capability("patient.import"),
    "crm/duplicates/": capability("patient.merge"),
    "crm/duplicates/<int:pk>/dismiss/": capability("patient.merge"),
    "crm/merge/<uuid:a>/<uuid:b>/": capability("patient.merge"),
    # --- Booking pages (scheduling) -----------------------------------------------------------
    # Anyone browses doctors and free times and may hold one before signing in.
    "doctors/": PUBLIC,
    "doctors/<uuid:public_id>/": PUBLIC,
    "specialties/<slug:slug>/": PUBLIC,
    "earliest/": PUBLIC,
    "book/hold/": PUBLIC,
    # Signed in: a login without a patient profile is sent to onboarding or home, not refused.
    "book/<uuid:public_id>/": Access(SIGNED_IN, "patients book; others are sent on"),
    "visits/": Access(SIGNED_IN, "patients' visits; others are sent home"),
    "visits/<uuid:public_id>/": PATIENTS,
    "visits/<uuid:public_id>/cancel/": PATIENTS,
    "visits/<uuid:public_id>/reschedule/": PATIENTS,
    "visits/<uuid:public_id>/calendar.ics": PATIENTS,
    "waitlist/join/": Access(SIGNED_IN, "patients wait; others are sent home"),
    "documents/": Access(SIGNED_IN, "the documents of one's own and dependants' visits"),
    "visits/<uuid:public_id>/documents/<slug:kind>.pdf": PATIENTS,
    "visits/<uuid:public_id>/invoice/": PATIENTS,
    "invoices/<uuid:public_id>.pdf": PATIENTS,
    "visits/<uuid:public_id>/pay/": PATIENTS,
    "visits/<uuid:public_id>/payment/return/": PATIENTS,
    # Providers call the webhook without a session: it checks their signature or address and
    # fetches the payment back; anything else gets 400.
    "payments/webhook/<slug:provider>/": Access(frozenset(PERSONAS), "payment providers"),
    # The test provider's own payment page, reached by its unguessable link (404 unless the
    # test provider is configured).
    "payments/test-gateway/<uuid:public_id>/": Access(frozenset(PERSONAS), "test provider"),
    "waitlist/<uuid:public_id>/leave/": PATIENTS,
    # Connector-mode clinics: the patient confirms a time of the clinic's own system; the
    # network admin configures connectors (secret write-only) and sees their health.
    "book/external/": PATIENTS,
    "network/connectors/": Access(frozenset({"network_admin"}), "network.manage network-wide"),
    "network/connectors/<uuid:public_id>/": Access(
        frozenset({"network_admin"}), "network.manage network-wide"
    ),
    "network/connectors/<uuid:public_id>/check/": Access(
        frozenset({"network_admin"}), "network.manage network-wide"
    ),
    # Integration tokens (shown once at creation, revocable) for other systems on the FHIR API.
    "network/integrations/": Access(frozenset({"network_admin"}), "network.manage network-wide"),
    "network/integrations/<uuid:public_id>/revoke/": Access(
        frozenset({"network_admin"}), "network.manage network-wide"
    ),
    # Booking requests where a clinic books on request (a login without a patient profile is
    # sent home from the form), and the desk's queue of them.
    "requests/new/": Access(SIGNED_IN, "patients request; others are sent home"),
    "requests/<uuid:public_id>/accept/": PATIENTS,
    "requests/<uuid:public_id>/cancel/": PATIENTS,
    "desk/requests/": capability("appointment.book"),
    "desk/requests/<uuid:public_id>/": capability("appointment.book"),
    "desk/requests/<uuid:public_id>/<slug:action>/": capability("appointment.book"),
    # An offer of a freed time, reached by the unguessable link in the message (unknown: 404;
    # a signed-in user who may not act for its patient: 404).
    "waitlist/offers/<str:token>/": Access(frozenset(PERSONAS), "the offer link's token"),
    # The doctor's own day: the doctor's role with a doctor profile linked to the login.
    "doctor/": DOCTOR_OWN,
    "doctor/visits/<uuid:public_id>/complete/": DOCTOR_OWN,
    "doctor/visits/<uuid:public_id>/note/": DOCTOR_OWN,
    "doctor/leave/": DOCTOR_OWN,
    # The registrar desk: the board for whoever sees schedules (network-wide staff pick a
    # clinic); booking and actions check their capability in the slot's or visit's clinic.
    # Deciding leave requests: who manages schedules (another clinic's request: 404).
    "leave/": capability("schedule.manage"),
    "leave/<int:pk>/approve/": capability("schedule.manage"),
    "leave/<int:pk>/decline/": capability("schedule.manage"),
    # The desk's queues: who books (another clinic's task: 404).
    "desk/queues/": capability("appointment.book"),
    "desk/queues/rebook/<int:pk>/done/": capability("appointment.book"),
    "desk/": capability("schedule.view"),
    "desk/board/": capability("schedule.view"),
    "desk/book/": capability("appointment.book"),
    "desk/appointments/<uuid:public_id>/": capability("appointment.view"),
    "desk/appointments/<uuid:public_id>/reschedule/": capability("appointment.manage"),
    # Undoing a check-in, no-show or completion marked by mistake: the red button's capability.
    "desk/appointments/<uuid:public_id>/undo-status/": capability("appointment.rollback"),
    # Each action needs its own capability: the placeholder action is unknown (404) to anyone
    # who may see visits at all.
    "desk/appointments/<uuid:public_id>/<slug:action>/": capability("appointment.view"),
    # The clinic's schedule: rules and exceptions with schedule.manage in the clinic; the
    # booking policy is read by schedule managers and changed with catalogue.manage.
    "schedule/": capability("schedule.manage"),
    "schedule/<uuid:clinic>/": capability("schedule.manage"),
    "schedule/<uuid:clinic>/rules/new/": capability("schedule.manage"),
    "schedule/<uuid:clinic>/rules/<int:pk>/": capability("schedule.manage"),
    "schedule/<uuid:clinic>/rules/<int:pk>/delete/": capability("schedule.manage"),
    "schedule/<uuid:clinic>/exceptions/": capability("schedule.manage"),
    "schedule/<uuid:clinic>/exceptions/preview/": capability("schedule.manage"),
    "schedule/<uuid:clinic>/exceptions/<int:pk>/delete/": capability("schedule.manage"),
    "schedule/<uuid:clinic>/policy/": Access(
        capability("schedule.manage").allowed,
        "schedule.manage reads; catalogue.manage changes",
        post=capability("catalogue.manage").allowed,
    ),
    # The head nurse's board: whoever sees schedules reads it (in their clinics); changes need
    # schedule.manage in the quota's or closure's clinic (the placeholder ids are unknown: 404).
    "nurse/": capability("schedule.view"),
    "nurse/quotas/new/": capability("schedule.manage"),
    "nurse/quotas/<int:pk>/": capability("schedule.view"),
    "nurse/quotas/<int:pk>/delete/": capability("schedule.view"),
    "nurse/quotas/<int:pk>/day/": capability("schedule.view"),
    "nurse/load/": capability("schedule.view"),
    "nurse/closures/": Access(
        capability("schedule.view").allowed,
        "schedule.view reads, schedule.manage closes",
        post=capability("schedule.manage").allowed,
    ),
    "nurse/closures/<int:pk>/": capability("schedule.view"),
    "nurse/closures/<int:pk>/lift/": capability("schedule.view"),
    "nurse/closures/<int:pk>/hand-over/": capability("schedule.view"),
    # The clinic admin's catalogue: prices and promotions of the clinics where the user holds
    # `catalogue.manage`; the shared service definitions only network-wide (the network admin).
    "manage/catalogue/": capability("catalogue.manage"),
    "manage/catalogue/services/<uuid:public_id>/": Access(
        frozenset({"network_admin"}), "catalogue.manage network-wide (shared services)"
    ),
    "manage/catalogue/<uuid:clinic_id>/services/<uuid:public_id>/prices/": capability(
        "catalogue.manage"
    ),
    "manage/catalogue/prices/<uuid:public_id>/delete/": capability("catalogue.manage"),
    "manage/catalogue/<uuid:clinic_id>/promotions/": capability("catalogue.manage"),
    "manage/catalogue/<uuid:clinic_id>/promotions/new/": capability("catalogue.manage"),
    "manage/catalogue/promotions/<uuid:public_id>/": capability("catalogue.manage"),
    # The clinic's waitlist: freed times, live offers, ranking, boost and assign.
    "desk/waitlist/": capability("appointment.manage"),
    "desk/waitlist/live/": capability("appointment.manage"),
    "desk/waitlist/join/<uuid:public_id>/": capability("appointment.manage"),
    "desk/waitlist/entries/<uuid:public_id>/priority/": capability("appointment.manage"),
    "desk/waitlist/slots/<uuid:public_id>/assign/": capability("appointment.manage"),
    "i18n/setlang/": PUBLIC,
    "jsi18n/": PUBLIC,
    # --- Sign-in (allauth) ----------------------------------------------------------------------
    "accounts/login/": PUBLIC,
    "accounts/logout/": PUBLIC,
    "accounts/inactive/": PUBLIC,
    "accounts/signup/": PUBLIC,
    "accounts/reauthenticate/": ANY_SIGNED_IN,
    "accounts/email/": ANY_SIGNED_IN,
    "accounts/confirm-email/": PUBLIC,
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": PUBLIC,
    "accounts/password/change/": ANY_SIGNED_IN,
    "accounts/password/set/": ANY_SIGNED_IN,
    "accounts/password/reset/": PUBLIC,
    "accounts/password/reset/done/": PUBLIC,
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": PUBLIC,
    "accounts/password/reset/key/done/": PUBLIC,
    "accounts/login/code/": PUBLIC,
    "accounts/login/code/confirm/": PUBLIC,
    "accounts/phone/verify/": PUBLIC,
    "accounts/phone/change/": ANY_SIGNED_IN,
    "accounts/2fa/": ANY_SIGNED_IN,
    "accounts/2fa/authenticate/": PUBLIC,
    "accounts/2fa/reauthenticate/": ANY_SIGNED_IN,
    "accounts/2fa/totp/activate/": ANY_SIGNED_IN,
    "accounts/2fa/totp/deactivate/": ANY_SIGNED_IN,
    "accounts/2fa/recovery-codes/": ANY_SIGNED_IN,
    "accounts/2fa/recovery-codes/generate/": ANY_SIGNED_IN,
    "accounts/2fa/recovery-codes/download/": ANY_SIGNED_IN,
    # --- REST API ------------------------------------------------------------------------------
    "api/v1/auth/token/": PUBLIC,
    "api/v1/auth/tokens/": ANY_SIGNED_IN,
    "api/v1/auth/tokens/<uuid:public_id>/": ANY_SIGNED_IN,
    "api/v1/me/": ANY_SIGNED_IN,
    "api/v1/patients/": Access(
        capability("patient.search").allowed,
        "patient.search (a GET is a 400: search by POST to search/); POST patient.create",
        post=capability("patient.create").allowed,
    ),
    "api/v1/patients/search/": capability("patient.search"),
    "api/v1/patients/<uuid:public_id>/": capability("patient.view_card"),
    "api/v1/clinics/": PUBLIC,
    "api/v1/specialties/": PUBLIC,
    "api/v1/services/": PUBLIC,
    "api/v1/doctors/": PUBLIC,
    "api/v1/slots/": PUBLIC,
    # The assistant: anyone talks to it (throttled); its tools check what each caller may do.
    "api/v1/assistant/messages/": PUBLIC,
    "api/v1/holds/": Access(BOOKERS, "patients and appointment.book"),
    "api/v1/appointments/": Access(SIGNED_IN, "visits one may see; POST books", post=BOOKERS),
    "api/v1/appointments/<str:public_id>/": ANY_SIGNED_IN,
    "api/v1/appointments/<str:public_id>/ics": ANY_SIGNED_IN,
    "api/v1/appointments/<str:public_id>/reschedule/": ANY_SIGNED_IN,
    "api/v1/appointments/<str:public_id>/cancel/": ANY_SIGNED_IN,
    "api/v1/appointments/<str:public_id>/confirm/": ANY_SIGNED_IN,
    "api/v1/appointments/<str:public_id>/check-in/": ANY_SIGNED_IN,
    "api/v1/appointments/<str:public_id>/no-show/": ANY_SIGNED_IN,
    "api/v1/appointments/<str:public_id>/complete/": ANY_SIGNED_IN,
    "api/v1/appointments/<str:public_id>/rollback/": ANY_SIGNED_IN,
    # Patients, and doctors with a schedule (the walker's doctor has none).
    "api/v1/calendar-feed/": PATIENTS,
    # The feed's secret address is its credential (calendar apps cannot sign in).
    "api/v1/calendar-feed/<str:secret>.ics": PUBLIC,
    "api/schema/": PUBLIC,
    "api/docs/": PUBLIC,
    "api/redoc/": PUBLIC,
    "api/^.*$": PUBLIC,
    # --- FHIR R4 -------------------------------------------------------------------------------
    "fhir/R4/metadata": PUBLIC,
    "fhir/R4/Practitioner": PUBLIC,
    "fhir/R4/Practitioner/<str:resource_id>": PUBLIC,
    "fhir/R4/HealthcareService": PUBLIC,
    "fhir/R4/HealthcareService/<str:resource_id>": PUBLIC,
    "fhir/R4/Location": PUBLIC,
    "fhir/R4/Location/<str:resource_id>": PUBLIC,
    "fhir/R4/Schedule": PUBLIC,
    "fhir/R4/Schedule/<str:resource_id>": PUBLIC,
    "fhir/R4/Slot": PUBLIC,
    "fhir/R4/Slot/<str:resource_id>": PUBLIC,
    "fhir/R4/Patient": ANY_SIGNED_IN,
    "fhir/R4/Patient/<str:resource_id>": ANY_SIGNED_IN,
    "fhir/R4/Appointment": Access(SIGNED_IN, "visits one may see; POST books", post=BOOKERS),
    "fhir/R4/Appointment/<str:resource_id>": ANY_SIGNED_IN,
    "fhir/R4/^.*$": PUBLIC,
    # --- Admin ---------------------------------------------------------------------------------
    # The admin site generates a set of routes per model; MedfrontAdminSite.has_permission
    # guards every one of them alike (its login page is the way in).
    # The admin's login page sends anonymous callers to the site's sign-in (allauth) and the
    # signed-in ones home: nobody signs in there.
    "admin/login/": Access(SIGNED_IN, "signs in through allauth"),
    "admin/logout/": PUBLIC,
    "admin/*": NETWORK_ADMIN,
}

# Placeholders for path parameters, by name: ids that exist nowhere.
PLACEHOLDERS = {
    "public_id": "00000000-0000-4000-8000-000000000000",
    "resource_id": "00000000-0000-4000-8000-000000000000",
    "purpose": "treatment",
    "provider": "test",
    "secret": "s" * 43,
    "key": "k3y",
    "uidb36": "1z",
    "object_id": "999999",
    "content_type_id": "999999",
    "id": "999999",
    "app_label": "portal",
    "url": "nothing-here/",
}
# By converter, for a parameter name not listed above.
BY_CONVERTER = {"uuid": PLACEHOLDERS["public_id"], "int": "999999"}
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
# Django-generated admin routes, and the admin's catch-all.
ADMIN_PREFIX = "admin/"


def all_routes(patterns=None, prefix: str = ""):
    """(route as written, view callback) of every URL pattern, nested includes flattened."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from all_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def concrete_path(route: str) -> str:
    path = NAMED_GROUP.sub(lambda m: PLACEHOLDERS.get(m.group(1), "nothing"), route)
    path = CONVERTER.sub(
        lambda m: PLACEHOLDERS.get(m.group(2)) or BY_CONVERTER.get(m.group(1) or "", "nothing"),
        path,
    )
    return "/" + path.replace(".*", "nothing-here").replace("^", "").replace("$", "")


def access_for(route: str) -> Access | None:
    if route in ROUTES:
        return ROUTES[route]
    for key, access in ROUTES.items():
        if "*" in key and fnmatchcase(route, key):
            return access
    return None


ALL = sorted(all_routes(), key=lambda item: item[0])


def test_every_route_has_an_entry_and_every_entry_a_route():
    missing = [route for route, _view in ALL if access_for(route) is None]
    assert missing == [], "declare who may use these routes in ROUTES"
    known = {route for route, _view in ALL}
    stale = [key for key in ROUTES if "*" not in key and key not in known]
    assert stale == [], "these ROUTES entries match no route any more"


def test_each_concrete_path_resolves_to_its_own_route():
    for route, _view in ALL:
        # Django writes a nested regex route without its own "^".
        assert resolve(concrete_path(route)).route == route.replace("^", ""), route


@pytest.mark.parametrize(
    ("route", "view"),
    [item for item in ALL if issubclass(getattr(item[1], "view_class", object), APIView)],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_api_views_are_public_only_when_marked_and_declared(route, view):
    view_class = view.view_class
    opens_to_anyone = any(
        isinstance(permission, type) and issubclass(permission, AllowAny)
        for permission in view_class.permission_classes
    )
    assert opens_to_anyone == is_public(view_class), f"{view_class.__name__}: use @public"
    assert is_public(view_class) == access_for(route).public, route


def refused(response, persona: str, path: str) -> bool:
    """Whether `response` is the documented refusal for `persona` at `path`."""
    status = response.status_code
    if persona == ANONYMOUS:
        if path.startswith(("/api/", "/fhir/")):
            return status == 401
        location = response.get("Location", "")
        return status == 302 and ("/accounts/login/" in location or "/admin/login/" in location)
    if path.startswith(ADMIN_PREFIX, 1) and status == 302:
        # The admin sends a signed-in user without access to its own login page.
        return "/admin/login/" in response.get("Location", "")
    return status in (403, 404)


def let_in(response, access: Access, path: str) -> bool:
    """No refusal: anything below 500 that is not 401, 403 or a redirect to sign in."""
    status = response.status_code
    if status == 401 or (status == 403 and not access.per_action_checks):
        return False
    location = response.get("Location", "") if status in (301, 302, 303) else ""
    return "/login/" not in location or path.startswith("/accounts/")


def group_of(route: str) -> str:
    """Routes walked by one test: each on its own, the admin's a model at a time (they are
    generated alike, and one set of personas per group keeps the walk quick)."""
    if route.startswith(ADMIN_PREFIX):
        return "/".join(route.split("/")[:3])
    return route


GROUPS: dict[str, list[str]] = {}
for _route, _view in ALL:
    GROUPS.setdefault(group_of(_route), []).append(_route)


@pytest.fixture
def clients(request):
    """A client per persona; `fresh=True` for one of its own (a POST may sign a client out)."""
    made: dict[str, Client] = {}

    def make(persona: str, *, fresh: bool = False) -> Client:
        if persona in made and not fresh:
            return made[persona]
        if persona == ANONYMOUS:
            client = Client(raise_request_exception=False)
        else:
            user = request.getfixturevalue(persona)
            client = client_for(getattr(user, "user", user))
            client.raise_request_exception = False
        if not fresh:
            made[persona] = client
        return client

    return make


def walk(route: str, clients) -> list[str]:
    access = access_for(route)
    assert access is not None, f"{route}: no entry in ROUTES"
    path = concrete_path(route)
    # A GET changes nothing; a POST may (sign out, rotate a feed), so it gets a fresh client.
    # The admin's routes are walked with GET only: a POST there deletes or saves.
    methods = ["get"] if route.startswith(ADMIN_PREFIX) else ["get", "post"]
    problems = []
    for persona in PERSONAS:
        for method in methods:
            client = clients(persona, fresh=method == "post")
            response = getattr(client, method)(path)
            status = response.status_code
            if status >= 500:
                problems.append(f"{method.upper()} {path} as {persona}: {status}")
            elif access.allows(persona, method):
                if not let_in(response, access, path):
                    problems.append(f"{method.upper()} {path} as {persona}: refused, {status}")
            elif status != 405 and not refused(response, persona, path):
                problems.append(f"{method.upper()} {path} as {persona}: {status}, not refused")
    return problems


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_route_answers_each_persona_as_documented(group, clients):
    problems = [problem for route in GROUPS[group] for problem in walk(route, clients)]
    assert problems == []
