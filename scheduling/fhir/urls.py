"""`/fhir/R4/`: no trailing slashes, as FHIR clients expect."""

from django.urls import path, re_path

from scheduling.fhir import views as v

ID = "<str:resource_id>"

urlpatterns = [
    path("metadata", v.MetadataView.as_view(), name="fhir-metadata"),
    path("Practitioner", v.PractitionerSearchView.as_view(), name="fhir-practitioners"),
    path(f"Practitioner/{ID}", v.PractitionerReadView.as_view()),
    path("HealthcareService", v.HealthcareServiceSearchView.as_view()),
    path(f"HealthcareService/{ID}", v.HealthcareServiceReadView.as_view()),
    path("Location", v.LocationSearchView.as_view()),
    path(f"Location/{ID}", v.LocationReadView.as_view()),
    path("Schedule", v.ScheduleSearchView.as_view()),
    path(f"Schedule/{ID}", v.ScheduleReadView.as_view()),
    path("Slot", v.SlotSearchView.as_view(), name="fhir-slots"),
    path(f"Slot/{ID}", v.SlotReadView.as_view()),
    path("Patient", v.PatientSearchView.as_view()),
    path(f"Patient/{ID}", v.PatientReadView.as_view()),
    path("Appointment", v.AppointmentSearchCreateView.as_view(), name="fhir-appointments"),
    path(f"Appointment/{ID}", v.AppointmentReadView.as_view()),
    re_path(r"^.*$", v.fhir_not_found),
]
