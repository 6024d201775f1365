"""Signals other apps listen to, defined here at the bottom of the app layers so that a sender
and a listener need not import each other (telephony may not import the CRM, nor it telephony).
"""

from __future__ import annotations

from django.dispatch import Signal

# Someone got in touch outside the CRM's own pages: a missed call, a first call from an unknown
# number. Sent after the sender's transaction commits, with keyword arguments:
#   source: "call" (crm.choices.LeadSource values)
#   clinic: the portal.Clinic contacted, or None
#   phone: the caller's number in E.164, or ""
#   tracking_number: the number they dialled (E.164), or ""
#   occurred_at: an aware datetime
enquiry_received = Signal()

# A patient's consents changed: a consent signed, replaced or withdrawn. Sent INSIDE the
# writer's transaction (`portal.services.consents`), so what a listener writes commits or rolls
# back with the consent itself. Keyword arguments:
#   patient_id: the portal.Patient whose consents changed
#   purpose: the portal.choices.ConsentPurpose value
consent_changed = Signal()
