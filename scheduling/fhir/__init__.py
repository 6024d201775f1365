"""FHIR R4 facade of the booking engine (`/fhir/R4/`): read-only catalogue resources, free
Slots, the caller's Patient, and Appointments booked through the same engine as the REST API."""
