"""The import page: text and document fields → preview → confirm (coordinators and admins)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.auth.permissions import can_manage_catalogue, require_manage_catalogue
from tracker.errors import DomainError
from tracker.imports import bp, queries, services
from tracker.imports.forms import ConfirmForm, ImportForm
from tracker.navigation import add_nav
from tracker.web import field_error, on_error_render

add_nav("imports.new", "导入文件", can_manage_catalogue)


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Show the form; on a valid submission, preview the items (nothing is written)."""
    require_manage_catalogue(current_user)
    form = ImportForm()
    if not form.validate_on_submit():
        if form.is_submitted():
            form.keep_upload()
            return render_template("imports/new.html", form=form), 422
        return render_template("imports/new.html", form=form)
    preview = queries.preview_attachment(form.attachment_text)
    names = ("number", "title", "issuer", "issued", "first_period")
    fields = {name: form[name].data for name in names}
    confirm = ConfirmForm(formdata=None, data={**fields, "text": form.attachment_text})
    form.text.data = form.attachment_text  # an uploaded file can now be corrected in place
    return render_template(
        "imports/new.html",
        form=form,
        document=form.document(),
        items=preview.items,
        problems=[str(problem) for problem in preview.problems],
        confirm=confirm if preview.ok else None,
    )


@bp.route("/confirm", methods=["POST"])
def confirm() -> ResponseReturnValue:
    """Re-validate and re-parse the previewed text, then import it as one document."""
    require_manage_catalogue(current_user)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("导入信息有误，未导入任何内容，请修改后重新预览。", "error")
        retry = ImportForm()
        retry.validate()
        return render_template("imports/new.html", form=retry), 422
    on_error_render(lambda error: _refused(form, error))
    assert form.text.data is not None  # DataRequired
    document = services.import_attachment(
        form.text.data, form.document(), actor=current_user._get_current_object()
    )
    flash(f"已导入 {document.number}，共 {len(document.tasks)} 项任务。", "success")
    return redirect(url_for("catalogue.tasks", document=document.id))


def _refused(form: ConfirmForm, error: DomainError) -> ResponseReturnValue:
    """An import refused for its content: the preview again with every problem; a race on the
    document number: the form again, as sent, with the message beside the number."""
    if not isinstance(error, services.ImportRefused):
        retry = ImportForm()
        field_error(retry, DomainError(error.message, field=error.field or "number"))
        flash(f"未导入任何内容：{error.message}", "error")
        return render_template("imports/new.html", form=retry), 422
    page = render_template(
        "imports/new.html",
        form=ImportForm(),
        document=form.document(),
        items=error.result.items if error.result else [],
        problems=error.problems,
        confirm=None,
    )
    return page, 422
