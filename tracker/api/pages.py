"""The profile pages where users issue and revoke their own API tokens (``/profile/tokens``).

These are ordinary signed-in pages with CSRF, on the ``tokens`` blueprint; the JSON API itself
(bearer tokens only) is ``routes.py``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.api import queries, services, tokens_bp
from tracker.auth.forms import TokenForm
from tracker.errors import DomainError
from tracker.forms import EmptyForm
from tracker.web import confirmation_page, confirmed, field_error, on_error_render


@tokens_bp.route("/profile/tokens", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    """One's own API tokens; a new token is shown once, in the response that issues it."""
    user = current_user._get_current_object()
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422 if request.method == "POST" else 200)

    def refused(error: DomainError) -> ResponseReturnValue:
        field_error(form, error)
        return _page(form, status=422)

    on_error_render(refused)
    assert form.name.data is not None  # DataRequired
    token, raw = services.create_token(user, name=form.name.data, actor=user)
    form.name.data = ""  # ready for the next one
    return _page(form, issued={"token": token, "raw": raw})


def _page(
    form: TokenForm, *, issued: dict[str, Any] | None = None, status: int = 200
) -> ResponseReturnValue:
    page = render_template(
        "api/tokens.html", form=form, issued=issued, button=EmptyForm(),
        tokens=queries.tokens_of(current_user),
    )  # fmt: skip
    return page, status, {"Cache-Control": "no-store"}  # a new token must not be cached


@tokens_bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of one's own tokens (another user's token is as good as missing)."""
    token = queries.token_of(current_user, token_id) or abort(404)
    if EmptyForm().validate_on_submit():
        if not confirmed():
            return confirmation_page(
                title=f"确认撤销令牌“{token.name}”",
                lines=[
                    f"撤销接口令牌“{token.name}”（{token.hint}），立即生效；",
                    "使用它的系统将无法再访问接口，撤销后不能恢复，需要时请签发新令牌；",
                    "此操作记入审计日志。",
                ],
                action=url_for("tokens.revoke", token_id=token.id),
                button="确认撤销",
                cancel=url_for("tokens.index"),
            )
        services.revoke_token(token, actor=current_user._get_current_object())
        flash(f"令牌“{token.name}”已撤销，使用它的系统将无法再访问接口。", "success")
    return redirect(url_for("tokens.index"))
