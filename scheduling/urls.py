from django.urls import path

from scheduling.views import (
    book,
    desk,
    doctor,
    documents,
    find,
    payments,
    visits,
    waitlist,
    waitlist_offers,
)

app_name = "scheduling"

urlpatterns = [
    # Find care and book (anonymous visitors may browse and pick a time).
    path("doctors/", find.find_care, name="find_care"),
    path("doctors/<uuid:public_id>/", find.doctor, name="doctor"),
    path("specialties/<slug:slug>/", find.specialty, name="specialty"),
    path("earliest/", find.earliest, name="earliest"),
    path("book/hold/", book.hold, name="hold"),
    path("book/<uuid:public_id>/", book.confirm, name="confirm"),
    # The patient's visits.
    path("visits/", visits.visits, name="visits"),
    path("visits/<uuid:public_id>/", visits.visit, name="visit"),
    path("visits/<uuid:public_id>/cancel/", visits.cancel, name="cancel"),
    path("visits/<uuid:public_id>/reschedule/", visits.reschedule, name="reschedule"),
    path("visits/<uuid:public_id>/calendar.ics", visits.visit_ics, name="visit_ics"),
    # Prepayment: the patient pays, the provider sends them back and notifies us.
    path("visits/<uuid:public_id>/pay/", payments.pay, name="pay"),
    path(
        "visits/<uuid:public_id>/payment/return/",
        payments.payment_return,
        name="payment_return",
    ),
    path("payments/webhook/<slug:provider>/", payments.webhook, name="payment_webhook"),
    path(
        "payments/test-gateway/<uuid:public_id>/",
        payments.test_gateway,
        name="test_gateway",
    ),
    # Documents (PDF).
    path("documents/", documents.documents_page, name="documents"),
    path(
        "visits/<uuid:public_id>/documents/<slug:kind>.pdf",
        documents.visit_document,
        name="visit_document",
    ),
    path("visits/<uuid:public_id>/invoice/", documents.invoice_new, name="invoice_new"),
    path("invoices/<uuid:public_id>.pdf", documents.invoice_pdf, name="invoice_pdf"),
    # The doctor's workplace: their own day and week, visits and leave requests.
    path("doctor/", doctor.doctor_day, name="doctor_day"),
    path(
        "doctor/visits/<uuid:public_id>/complete/",
        doctor.visit_complete,
        name="doctor_visit_complete",
    ),
    path("doctor/visits/<uuid:public_id>/note/", doctor.visit_note, name="doctor_visit_note"),
    path("doctor/leave/", doctor.leave_request, name="doctor_leave"),
    # The registrar desk: the day board, booking from it, and acting on one appointment.
    path("desk/", desk.board, name="desk"),
    path("desk/board/", desk.board_poll, name="desk_board"),
    path("desk/book/", desk.book, name="desk_book"),
    path("desk/appointments/<uuid:public_id>/", desk.appointment, name="desk_appointment"),
    path(
        "desk/appointments/<uuid:public_id>/reschedule/",
        desk.reschedule,
        name="desk_reschedule",
    ),
    path(
        "desk/appointments/<uuid:public_id>/<slug:action>/",
        desk.appointment_action,
        name="desk_action",
    ),
    # The cancellation waitlist.
    path("waitlist/join/", waitlist.join, name="waitlist_join"),
    path("waitlist/<uuid:public_id>/leave/", waitlist.leave, name="waitlist_leave"),
    # An offer of a freed time: the link in the message (its token is the credential).
    path("waitlist/offers/<str:token>/", waitlist_offers.offer, name="waitlist_offer"),
    # Staff: the clinic's freed times, waiting patients and live offers.
    path("desk/waitlist/", waitlist_offers.staff_page, name="desk_waitlist"),
    path("desk/waitlist/live/", waitlist_offers.staff_live, name="desk_waitlist_live"),
    path(
        "desk/waitlist/entries/<uuid:public_id>/priority/",
        waitlist_offers.entry_priority,
        name="desk_waitlist_priority",
    ),
    path(
        "desk/waitlist/slots/<uuid:public_id>/assign/",
        waitlist_offers.slot_assign,
        name="desk_waitlist_assign",
    ),
]
