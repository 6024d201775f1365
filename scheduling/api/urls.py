from django.urls import path

from scheduling.api import appointments as a
from scheduling.api import calendar, catalogue, slots

urlpatterns = [
    path("clinics/", catalogue.ClinicListView.as_view(), name="api-clinics"),
    path("specialties/", catalogue.SpecialtyListView.as_view(), name="api-specialties"),
    path("services/", catalogue.ServiceListView.as_view(), name="api-services"),
    path("doctors/", catalogue.DoctorListView.as_view(), name="api-doctors"),
    path("slots/", slots.SlotListView.as_view(), name="api-slots"),
    path("holds/", a.HoldCreateView.as_view(), name="api-holds"),
    path("appointments/", a.AppointmentListCreateView.as_view(), name="api-appointments"),
    path(
        "appointments/<str:public_id>/",
        a.AppointmentDetailView.as_view(),
        name="api-appointment",
    ),
    path("appointments/<str:public_id>/ics", calendar.AppointmentIcsView.as_view()),
    path("calendar-feed/", calendar.CalendarFeedView.as_view(), name="api-calendar-feed"),
    path(
        "calendar-feed/<str:secret>.ics",
        calendar.CalendarFeedIcsView.as_view(),
        name="api-calendar-feed-ics",
    ),
    path("appointments/<str:public_id>/reschedule/", a.RescheduleView.as_view()),
    path("appointments/<str:public_id>/cancel/", a.CancelView.as_view()),
    path("appointments/<str:public_id>/confirm/", a.ConfirmView.as_view()),
    path("appointments/<str:public_id>/check-in/", a.CheckInView.as_view()),
    path("appointments/<str:public_id>/no-show/", a.NoShowView.as_view()),
    path("appointments/<str:public_id>/complete/", a.CompleteView.as_view()),
    path("appointments/<str:public_id>/rollback/", a.RollbackView.as_view()),
]
