"""The web pages' one error path: a :class:`~tracker.errors.DomainError` raised by a service.

A view says, before its one service call, how a refusal should be answered:

* :func:`on_error_render` — render the page again (the form keeps the user's input; the
  renderer puts the message beside :attr:`DomainError.field`, or at the top);
* :func:`on_error_redirect` — flash the message and go to a page (the default is the form's
  safe ``next``, else the page the user came from, else the home page).

:func:`handle_domain_error` is the one handler: it rolls the request's transaction back, then
answers as the view asked. Views never catch service errors and never roll back themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import Form

from tracker.errors import DomainError, NotAllowed, NotFound, Stale
from tracker.extensions import db
from tracker.forms import EmptyForm
from tracker.urls import safe_next

Renderer = Callable[[DomainError], ResponseReturnValue]


def on_error_render(render: Renderer) -> None:
    """Answer a refusal later in this request by ``render(error)`` (a page, status ≥ 400)."""
    g.domain_error_render = render


def on_error_redirect(target: str) -> None:
    """Answer a refusal later in this request by flashing it and redirecting to ``target``."""
    g.domain_error_redirect = target


def confirmed() -> bool:
    """Whether this POST is the confirmed one (``confirm=1``) of a destructive action."""
    return request.form.get("confirm") == "1"


@dataclass(frozen=True)
class Choice:
    """A required select on a confirmation page: field name, label, (value, text) options,
    the value chosen before and a message when the choice was missing or wrong."""

    name: str
    label: str
    options: list[tuple[str, str]]
    chosen: str = ""
    error: str = ""


def confirmation_page(
    *,
    title: str,
    lines: list[str],
    action: str,
    button: str,
    cancel: str,
    fields: dict[str, str] | None = None,
    choice: Choice | None = None,
) -> ResponseReturnValue:
    """The page a destructive action's first POST answers: what will happen, exactly, with a
    confirm button (the same POST again, ``confirm=1`` and ``fields`` carried along) and a
    cancel link; ``choice`` adds one required selection (a successor, say). Nothing is
    written; works without JavaScript."""
    page = render_template(
        "confirm.html", title=title, lines=lines, action=action, button=button,
        cancel=cancel, fields=fields or {}, form=EmptyForm(), choice=choice,
    )  # fmt: skip
    return page, 200, {"Cache-Control": "no-store"}


def field_error(form: Form, error: DomainError) -> None:
    """Put ``error``'s message beside its field of ``form``, or in the form's top-level errors."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def flash_form_errors(form: Any) -> None:
    """Flash every validation message of ``form`` (for POST-only forms that redirect back)."""
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")


def _referrer() -> str | None:
    """The page the user came from, as a local path, if it was one of ours."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(path) if path else None


def referrer_path() -> str | None:
    """The page the user came from, as a local path, if it was one of ours."""
    return _referrer()


def handle_domain_error(error: DomainError) -> ResponseReturnValue:
    """Roll back, then answer ``error`` as the view asked (see the module's docstring)."""
    db.session.rollback()
    if isinstance(error, NotAllowed):
        abort(403)
    if isinstance(error, NotFound):
        abort(404)
    render: Renderer | None = g.pop("domain_error_render", None)
    if render is not None:
        return render(error)
    flash(error.message, "error")
    target = (
        g.pop("domain_error_redirect", None)
        or safe_next(request.form.get("next"))
        or _referrer()
        or url_for("catalogue.home")
    )
    return redirect(target, 303)


def handle_lost_race(error: StaleDataError | IntegrityError) -> ResponseReturnValue:
    """A concurrent request changed (or created) the same row first: 409 as a stale edit.

    The version check of a service sees what was committed when it read; two writers that
    pass it together meet at the database, where the loser's UPDATE finds no row of its
    version (``StaleDataError``) or its INSERT a row already there (``IntegrityError``). The
    loser is answered as the view asked for any refusal — its form again, with its input.
    """
    return handle_domain_error(
        Stale(
            "保存失败：该记录刚被他人修改或创建，您的内容尚未保存。请核对页面上的最新状态后重新提交。"
        )
    )


def init_app(app: Flask) -> None:
    """Register the page handlers (the API's blueprint registers its own)."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(StaleDataError, handle_lost_race)
    app.register_error_handler(IntegrityError, handle_lost_race)
