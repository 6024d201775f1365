"""`/fhir/R4/`: no trailing slashes, as FHIR clients expect."""

from django.urls import path, re_path

from scheduling.fhir.views import (
    appointments,
    base,
    catalogue,
    metadata,
    patients,
    schedules,
    slots,
)

ID = "<str:resource_id>"

urlpatterns = [
    path("metadata", metadata.MetadataView.as_view(), name="fhir-metadata"),
    path("Practitioner", catalogue.PractitionerSearchView.as_view(), name="fhir-practitioners"),
    path(f"Practitioner/{ID}", catalogue.PractitionerReadView.as_view()),
    path("HealthcareService", catalogue.HealthcareServiceSearchView.as_view()),
    path(f"HealthcareService/{ID}", catalogue.HealthcareServiceReadView.as_view()),
    path("Location", catalogue.LocationSearchView.as_view()),
    path(f"Location/{ID}", catalogue.LocationReadView.as_view()),
    path("Schedule", schedules.ScheduleSearchView.as_view()),
    path(f"Schedule/{ID}", schedules.ScheduleReadView.as_view()),
    path("Slot", slots.SlotSearchView.as_view(), name="fhir-slots"),
    path(f"Slot/{ID}", slots.SlotReadView.as_view()),
    path("Patient", patients.PatientSearchView.as_view()),
    path(f"Patient/{ID}", patients.PatientReadView.as_view()),
    path(
        "Appointment",
        appointments.AppointmentSearchCreateView.as_view(),
        name="fhir-appointments",
    ),
    path(f"Appointment/{ID}", appointments.AppointmentReadView.as_view()),
    re_path(r"^.*$", base.fhir_not_found),
]
