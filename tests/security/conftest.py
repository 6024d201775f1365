"""Fixtures of the hostile-input, throttling and route-access suites: the scheduling API's small
network (a service and a therapist in clinic A) and the API clients."""

from tests.portal.api.conftest import api, api_as  # noqa: F401
from tests.scheduling.api.conftest import (  # noqa: F401
    _fresh_cache,
    doctor,
    service,
    specialty,
    tomorrow_a,
)
