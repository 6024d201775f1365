from django.urls import path

from portal.views import accounts, pages, staff_patients

app_name = "portal"

urlpatterns = [
    path("", pages.landing, name="landing"),
    path("home/", pages.home, name="home"),
    path("healthz", pages.healthz, name="healthz"),
    # Every login: a new patient's first profile, and sign-in security (password, MFA...).
    path("me/welcome/", accounts.onboarding, name="onboarding"),
    path("me/security/", accounts.security, name="security"),
    # Staff workplace: the shared patient profile and the audit log.
    path("staff/patients/", staff_patients.patient_search_page, name="patient_search"),
    path("staff/patients/new/", staff_patients.patient_create_page, name="patient_create"),
    path("staff/patients/<uuid:public_id>/", staff_patients.patient_card, name="patient_card"),
    path(
        "staff/patients/<uuid:public_id>/edit/",
        staff_patients.patient_edit_page,
        name="patient_edit",
    ),
    path("staff/audit/", staff_patients.audit_log, name="audit_log"),
]
