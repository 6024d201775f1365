from django.urls import path

from scheduling.views import (
    book,
    book_external,
    catalogue_admin,
    connectors,
    desk,
    desk_queues,
    desk_requests,
    desk_undo,
    doctor,
    documents,
    find,
    leave,
    nurse,
    payments,
    requests,
    schedule_admin,
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
    # Deciding doctors' leave requests (head nurses, clinic admins).
    path("leave/", leave.leave_requests, name="leave_requests"),
    path("leave/<int:pk>/approve/", leave.leave_approve, name="leave_approve"),
    path("leave/<int:pk>/decline/", leave.leave_decline, name="leave_decline"),
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
        "desk/appointments/<uuid:public_id>/undo-status/",
        desk_undo.undo_status,
        name="desk_undo_status",
    ),
    path(
        "desk/appointments/<uuid:public_id>/<slug:action>/",
        desk.appointment_action,
        name="desk_action",
    ),
    # Connector-mode clinics: booking a time from the clinic's own system...
    path("book/external/", book_external.confirm, name="confirm_external"),
    # ...and the network admin's connector pages.
    path("network/connectors/", connectors.connectors, name="connectors"),
    path("network/connectors/<uuid:public_id>/", connectors.connector, name="connector"),
    path(
        "network/connectors/<uuid:public_id>/check/",
        connectors.connector_check,
        name="connector_check",
    ),
    # Booking requests where a clinic books on request: the patient's side...
    path("requests/new/", requests.new, name="request_new"),
    path("requests/<uuid:public_id>/accept/", requests.accept, name="request_accept"),
    path("requests/<uuid:public_id>/cancel/", requests.cancel, name="request_cancel"),
    # ...and the desk's queue.
    path("desk/requests/", desk_requests.queue, name="desk_requests"),
    path("desk/requests/<uuid:public_id>/", desk_requests.detail, name="desk_request"),
    path(
        "desk/requests/<uuid:public_id>/<slug:action>/",
        desk_requests.act,
        name="desk_request_action",
    ),
    # The desk's queues: visits to rebook (and the sections other apps add).
    path("desk/queues/", desk_queues.queues, name="desk_queues"),
    path("desk/queues/rebook/<int:pk>/done/", desk_queues.rebook_done, name="desk_rebook_done"),
    # The head nurse's board: quotas, load of rooms and equipment, closures.
    path("nurse/", nurse.board, name="nurse"),
    path("nurse/quotas/new/", nurse.quota_new, name="nurse_quota_new"),
    path("nurse/quotas/<int:pk>/", nurse.quota_edit, name="nurse_quota"),
    path("nurse/quotas/<int:pk>/delete/", nurse.quota_remove, name="nurse_quota_delete"),
    path("nurse/quotas/<int:pk>/day/", nurse.quota_day, name="nurse_quota_day"),
    path("nurse/load/", nurse.load, name="nurse_load"),
    path("nurse/closures/", nurse.closures, name="nurse_closures"),
    path("nurse/closures/<int:pk>/", nurse.closure, name="nurse_closure"),
    path("nurse/closures/<int:pk>/lift/", nurse.closure_lift, name="nurse_closure_lift"),
    path(
        "nurse/closures/<int:pk>/hand-over/",
        nurse.closure_hand_over,
        name="nurse_closure_hand_over",
    ),
    # The cancellation waitlist.
    path("waitlist/join/", waitlist.join, name="waitlist_join"),
    path("waitlist/<uuid:public_id>/leave/", waitlist.leave, name="waitlist_leave"),
    # The clinic's schedule: weekly rules, exceptions and the booking policy.
    path("schedule/", schedule_admin.schedule_home, name="schedule"),
    path("schedule/<uuid:clinic>/", schedule_admin.grid, name="schedule_grid"),
    path("schedule/<uuid:clinic>/rules/new/", schedule_admin.rule_new, name="schedule_rule_new"),
    path(
        "schedule/<uuid:clinic>/rules/<int:pk>/",
        schedule_admin.rule_edit,
        name="schedule_rule_edit",
    ),
    path(
        "schedule/<uuid:clinic>/rules/<int:pk>/delete/",
        schedule_admin.rule_delete,
        name="schedule_rule_delete",
    ),
    path(
        "schedule/<uuid:clinic>/exceptions/",
        schedule_admin.exceptions,
        name="schedule_exceptions",
    ),
    path(
        "schedule/<uuid:clinic>/exceptions/preview/",
        schedule_admin.exception_preview,
        name="schedule_exception_preview",
    ),
    path(
        "schedule/<uuid:clinic>/exceptions/<int:pk>/delete/",
        schedule_admin.exception_delete,
        name="schedule_exception_delete",
    ),
    path("schedule/<uuid:clinic>/policy/", schedule_admin.policy, name="schedule_policy"),
    # The clinic admin's catalogue: services, the clinic's prices from a day on, promotions.
    path("manage/catalogue/", catalogue_admin.catalogue, name="catalogue"),
    path(
        "manage/catalogue/services/<uuid:public_id>/",
        catalogue_admin.service_edit,
        name="catalogue_service",
    ),
    path(
        "manage/catalogue/<uuid:clinic_id>/services/<uuid:public_id>/prices/",
        catalogue_admin.service_prices,
        name="catalogue_prices",
    ),
    path(
        "manage/catalogue/prices/<uuid:public_id>/delete/",
        catalogue_admin.price_delete,
        name="catalogue_price_delete",
    ),
    path(
        "manage/catalogue/<uuid:clinic_id>/promotions/",
        catalogue_admin.promotions,
        name="catalogue_promotions",
    ),
    path(
        "manage/catalogue/<uuid:clinic_id>/promotions/new/",
        catalogue_admin.promotion_new,
        name="catalogue_promotion_new",
    ),
    path(
        "manage/catalogue/promotions/<uuid:public_id>/",
        catalogue_admin.promotion_edit,
        name="catalogue_promotion",
    ),
    # An offer of a freed time: the link in the message (its token is the credential).
    path("waitlist/offers/<str:token>/", waitlist_offers.offer, name="waitlist_offer"),
    # Staff: the clinic's freed times, waiting patients and live offers.
    path("desk/waitlist/", waitlist_offers.staff_page, name="desk_waitlist"),
    path("desk/waitlist/live/", waitlist_offers.staff_live, name="desk_waitlist_live"),
    path(
        "desk/waitlist/join/<uuid:public_id>/",
        waitlist_offers.desk_join,
        name="desk_waitlist_join",
    ),
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
