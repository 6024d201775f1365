"""The booking engine's domain errors as problem+json: each error class carries its own
`http_status` (409 conflict, 422 broken rule, 400 malformed, 403 not allowed) and `code`."""

from portal.api.exceptions import register_domain_error
from scheduling.errors import BookingError

register_domain_error(BookingError)
