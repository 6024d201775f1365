from django.urls import path

from portal.views import (
    account_pages,
    accounts,
    contact_pages,
    integrations,
    pages,
    staff_patients,
)

app_name = "portal"

urlpatterns = [
    path("", pages.landing, name="landing"),
    path("home/", pages.home, name="home"),
    path("healthz", pages.healthz, name="healthz"),
    path("language/", pages.set_language, name="set_language"),
    # Every login: a new patient's first profile, and sign-in security (password, MFA...).
    path("me/welcome/", accounts.onboarding, name="onboarding"),
    path("me/security/", accounts.security, name="security"),
    path(
        "me/security/apps/<uuid:public_id>/sign-out/",
        accounts.api_token_revoke_page,
        name="security_app_sign_out",
    ),
    # The patient's own account (self and dependants).
    path("me/", account_pages.profile, name="profile"),
    path("me/edit/", account_pages.profile_edit, name="profile_edit"),
    path("me/family/", account_pages.family, name="family"),
    path("me/family/add/", account_pages.family_add, name="family_add"),
    path("me/family/<uuid:public_id>/", account_pages.dependant, name="dependant"),
    path("me/family/<uuid:public_id>/edit/", account_pages.dependant_edit, name="dependant_edit"),
    path(
        "me/family/<uuid:public_id>/notifications/",
        contact_pages.dependant_notification_settings,
        name="dependant_notifications",
    ),
    path(
        "me/family/<uuid:public_id>/unlink/",
        account_pages.dependant_unlink,
        name="dependant_unlink",
    ),
    path("me/consents/", account_pages.consents, name="consents"),
    path(
        "me/consents/<uuid:public_id>/<slug:purpose>/",
        account_pages.consent_sign_page,
        name="consent_sign",
    ),
    path(
        "me/consents/<uuid:public_id>/<slug:purpose>/withdraw/",
        account_pages.consent_withdraw_view,
        name="consent_withdraw",
    ),
    # How the patient is written to: channels and kinds, and the Telegram chat link.
    path("me/notifications/", contact_pages.notification_settings, name="notification_settings"),
    path("me/telegram/", contact_pages.telegram_link, name="telegram_link"),
    path("me/telegram/unlink/", contact_pages.telegram_unlink, name="telegram_unlink"),
    # The network admin's integration tokens (connectors and other systems on the FHIR API).
    path("network/integrations/", integrations.integration_tokens, name="integration_tokens"),
    path(
        "network/integrations/<uuid:public_id>/revoke/",
        integrations.integration_token_revoke_page,
        name="integration_token_revoke",
    ),
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
