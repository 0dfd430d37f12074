"""The API's fixtures (token, contract-checking client), for the API writes' audit."""

from tests.api.conftest import api, contract, token_for  # noqa: F401 - fixtures
