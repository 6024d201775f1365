import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def api_as():
    """A factory of API clients signed in (session) as a given user."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
