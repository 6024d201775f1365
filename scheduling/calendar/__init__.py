"""iCal (RFC 5545): one visit as .ics and each user's secret feed of visits."""
