"""Patient-facing pages of the booking engine: find care, the week picker, booking with a
hold, the patient's visits. Thin views over `scheduling.selectors` and `scheduling.services`."""
