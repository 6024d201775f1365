"""REST API of the booking engine (`/api/v1/`). Importing it registers the engine's domain errors
with the problem+json handler."""

from scheduling.api import problems  # noqa: F401
