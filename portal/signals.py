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
