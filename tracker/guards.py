"""Input the application refuses before any view reads it (400/404, never a 500).

One request hook and one URL converter, so that no view has to remember them:

* ``<int:…>`` in a URL accepts 0 … 2**31 − 1 (the range of the id columns on PostgreSQL);
  a bigger number matches no route: 404.
* A NUL character anywhere in the path, the query string, a form field's name or value or an
  uploaded file's name is refused: PostgreSQL cannot store it, and no user types it. (The
  JSON API checks its bodies' strings itself, with a message per field; so does a view marked
  :func:`checks_own_text`, whose form puts the message beside the field and keeps the text.)
* A whole number of 19 digits or more (|n| ≥ 10**18, near 2**63, the limit of both backends'
  integers) in the query string or a form field is refused. Smaller numbers reach the
  forms, which check their own ranges and keep what the user typed.
* A page number (``page``, ``per_page`` in the query string) above :data:`MAX_PAGE` is
  refused: its offset would overflow the database's integers long before 19 digits.
* A JSON body nested deeper than :data:`MAX_JSON_DEPTH` is refused before it is parsed
  (Python's parser would raise ``RecursionError`` from about 1,000 levels).

* A form sent by a browser (an unsafe method) from another site is refused: its ``Origin``
  header — or, without one, its ``Referer`` — must be the application's own origin or one of
  ``TRACKER_TRUSTED_ORIGINS``. A request with neither header is let through to the CSRF token
  check: browsers send ``Origin`` with every cross-site POST, and the clients that send
  neither (scripts, the API's callers with bearer tokens) carry no session cookie to abuse.

Each refusal is a :class:`RefusedInput` (a ``400 Bad Request``) whose description is the
Chinese message the error page and the API's error envelope show.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

V = TypeVar("V", bound=Callable[..., Any])

MAX_ID = 2**31 - 1
MAX_JSON_DEPTH = 64
MAX_PAGE = 1_000_000
PAGE_ARGUMENTS = frozenset({"page", "per_page"})
_HUGE_INTEGER = re.compile(r"\s*[-+]?0*[1-9]\d{18,}\s*")  # 19+ significant digits
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")


class RefusedInput(BadRequest):
    """400 with a message for the user (the error page and the API show ``description``);
    ``field`` names the query or form field it is about, if one (the API's ``fields``)."""

    def __init__(self, description: str, *, field: str | None = None):
        super().__init__(description)
        self.field = field


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's ``int`` converter with the id columns' upper bound as its default maximum."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def checks_own_text(view: V) -> V:
    """Mark a view whose form refuses NUL in its text fields itself, beside each field."""
    view._tracker_checks_own_text = True  # type: ignore[attr-defined]
    return view


def json_depth(data: bytes) -> int:
    """How deeply the JSON text ``data`` nests arrays and objects (strings are skipped)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKETS.findall(_JSON_STRING.sub(b"", data)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _check_values(pairs: Iterable[tuple[str, str]], where: str, *, values: bool = True) -> None:
    for key, value in pairs:
        field = None if "\x00" in key else key
        if "\x00" in key or (values and "\x00" in value):
            raise RefusedInput(
                f"{where}中含有不允许的空字符（NUL），请删除后重新提交。", field=field
            )
        if _HUGE_INTEGER.fullmatch(value):
            raise RefusedInput(f"{where}中的数字超出允许的范围，请检查后重新提交。", field=field)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def check_origin() -> None:
    """Refuse an unsafe request a browser sent from a page of another origin."""
    if request.method not in UNSAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin is None:
        referrer = request.headers.get("Referer")
        if not referrer:
            return  # neither header: no browser's cross-site form (see the module)
        origin = _origin_of(referrer)
    else:
        origin = origin.strip().rstrip("/").lower()
    own = _origin_of(request.host_url)
    if origin == own or origin in current_app.config["TRACKER_TRUSTED_ORIGINS"]:
        return
    raise RefusedInput("请求来自其他网站的页面，已拒绝：请在本系统的页面中提交表单。")


def check_request() -> None:
    """Refuse the request's input if it holds what no view can handle (see the module)."""
    check_origin()
    if "\x00" in request.path:
        raise RefusedInput("地址中含有不允许的空字符（NUL）。")
    _check_values(request.args.items(multi=True), "查询参数")
    for name in PAGE_ARGUMENTS:
        for value in request.args.getlist(name):
            text = value.strip()
            if text.isascii() and text.isdigit() and int(text) > MAX_PAGE:
                raise RefusedInput(f"页码超出范围（最大 {MAX_PAGE}）。", field=name)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        view = current_app.view_functions.get(request.endpoint or "")
        own = getattr(view, "_tracker_checks_own_text", False)
        _check_values(request.form.items(multi=True), "表单", values=not own)
        for key, upload in request.files.items(multi=True):
            if "\x00" in key or "\x00" in (upload.filename or ""):
                raise RefusedInput("上传文件的名称中含有不允许的空字符（NUL）。")
    elif request.is_json:
        data = request.get_data(cache=True)
        if json_depth(data) > MAX_JSON_DEPTH:
            raise RefusedInput(f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层，请求无效。")


def init_app(app: Flask) -> None:
    """Install the bounded ``int`` converter (before any route) and the request hook."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(check_request)
