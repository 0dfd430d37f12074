"""API fixtures: tokens, and a JSON client that checks every answer against the OpenAPI document.

Every response an API test receives goes through :class:`ContractChecker`: its status must be
documented for the operation, its body must be JSON and match the documented schema. So each
test of behaviour is also a contract test of the responses it sees.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tracker.api import URL_PREFIX
from tracker.api import services as token_services
from tracker.api.schemas import openapi_document
from tracker.extensions import db

METHODS = ("get", "post", "patch", "put", "delete")


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _datetime(value) -> bool:
        return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None

    @checker.checks("date", raises=ValueError)
    def _date(value) -> bool:
        return not isinstance(value, str) or bool(date.fromisoformat(value))

    return checker


class ContractChecker:
    """Finds the documented operation of a request and validates a response against it."""

    def __init__(self, document: dict):
        self.document = document
        self.formats = _format_checker()
        self.routes = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
            for template in document["paths"]
        ]
        self.seen: set[tuple[str, str, str]] = set()

    def operation(self, method: str, path: str) -> tuple[str, dict] | None:
        local = path.split("?", 1)[0].removeprefix(URL_PREFIX)
        for pattern, template in self.routes:
            if pattern.match(local):
                operation = self.document["paths"][template].get(method.lower())
                return (template, operation) if operation else None
        return None

    def response_spec(self, operation: dict, status: int) -> tuple[dict, str] | None:
        spec = operation["responses"].get(str(status))
        if spec is None:
            return None
        pointer = None
        if "$ref" in spec:
            pointer = spec["$ref"]
            spec = self._resolve(pointer)
        return spec, pointer

    def _resolve(self, pointer: str) -> dict:
        node = self.document
        for part in pointer.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def check(self, method: str, path: str, response) -> None:
        found = self.operation(method, path)
        assert found is not None, f"{method} {path} is not documented"
        template, operation = found
        status = response.status_code
        spec = self.response_spec(operation, status)
        assert spec is not None, (
            f"{method} {template} answered {status}, which is not documented: "
            f"{response.get_data(as_text=True)[:300]}"
        )
        spec, _ = spec
        content = spec["content"]
        assert response.mimetype in content, f"{method} {template} {status}: {response.mimetype}"
        self.seen.add((template, method.lower(), str(status)))
        if response.mimetype != "application/json":
            return  # a download: its type is documented, its bytes are checked by its tests
        schema = content["application/json"]["schema"]
        # Validate with the whole document as the root, so that "#/components/…" resolves.
        root = {**self.document, **schema}
        validator = Draft202012Validator(root, format_checker=self.formats)
        errors = sorted(validator.iter_errors(response.get_json()), key=lambda e: list(e.path))
        assert not errors, f"{method} {template} {status}: " + "; ".join(
            f"{list(e.path)}: {e.message}" for e in errors[:5]
        )


@pytest.fixture(scope="session")
def contract() -> ContractChecker:
    return ContractChecker(openapi_document())


class ApiClient:
    """Calls the API as a ministry's system would: JSON body, bearer token, no cookies."""

    def __init__(self, app, contract: ContractChecker, token: str | None):
        self.client = app.test_client(use_cookies=False)
        self.contract = contract
        self.token = token

    def request(self, method: str, path: str, *, json=None, token=..., headers=None, **kwargs):
        token = self.token if token is ... else token
        all_headers = dict(headers or {})
        if token is not None:
            all_headers.setdefault("Authorization", f"Bearer {token}")
        url = path if path.startswith(URL_PREFIX) else URL_PREFIX + path
        kwargs.setdefault("csrf", False)  # an API client has no form token; the API needs none
        response = self.client.open(url, method=method, json=json, headers=all_headers, **kwargs)
        self.contract.check(method, url, response)
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.request("PATCH", path, json=json, **kwargs)


@pytest.fixture
def token_for():
    """``token_for(user)`` → a new, committed token of that user (the raw token string)."""

    def issue(user, name: str = "测试系统") -> str:
        _, raw = token_services.create_token(user, name=name, actor=user)
        db.session.commit()
        return raw

    return issue


@pytest.fixture
def api(app, contract, token_for):
    """``api(user)`` → an :class:`ApiClient` holding a new token of that user."""

    def client_for(user=None, *, token: str | None = None) -> ApiClient:
        if user is not None and token is None:
            token = token_for(user)
        return ApiClient(app, contract, token)

    return client_for
