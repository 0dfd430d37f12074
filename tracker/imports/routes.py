"""The import page: text and document fields → preview → confirm (coordinators and admins)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.auth.models import User
from tracker.auth.permissions import (
    can_manage_catalogue,
    can_manage_departments,
    require_manage_catalogue,
    require_manage_departments,
)
from tracker.catalogue.services import DepartmentInput, create_department, propose_codes
from tracker.errors import DomainError
from tracker.imports import bp, queries, services
from tracker.imports.forms import ConfirmForm, DocumentFieldsForm, ImportForm, NewDepartmentForm
from tracker.navigation import add_nav
from tracker.web import confirmation_page, confirmed, field_error, on_error_render

DOCUMENT_FIELDS = ("number", "title", "issuer", "issued", "first_period")

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
    form.text.data = form.attachment_text  # an uploaded file can now be corrected in place
    return _preview(form, form.attachment_text)


def _preview(form: DocumentFieldsForm, text: str) -> str:
    """The preview of ``text`` for the document ``form`` describes (validated), with the
    confirmation, or the problems; an administrator is offered the missing departments."""
    preview = queries.preview_attachment(text)
    fields = {name: form[name].data for name in DOCUMENT_FIELDS}
    confirm = ConfirmForm(formdata=None, data={**fields, "text": text})
    missing = queries.missing_departments(preview)
    proposals = []
    if missing and can_manage_departments(current_user):
        proposals = queries.department_proposals(missing, propose_codes(len(missing)))
    offers = [_offer(fields, text, proposal) for proposal in proposals]
    bottom = form if isinstance(form, ImportForm) else ImportForm(formdata=None, data=fields)
    if not isinstance(form, ImportForm):
        bottom.text.data = text
    return render_template(
        "imports/new.html",
        form=bottom,
        document=form.document(),
        items=preview.items,
        problems=[str(problem) for problem in preview.problems],
        confirm=confirm if preview.ok else None,
        offers=list(zip(proposals, offers, strict=True)),
    )


def _offer(
    fields: dict[str, str], text: str, proposal: queries.DepartmentProposal
) -> NewDepartmentForm:
    """The hidden form that asks to create one proposed department."""
    data = {
        **fields,
        "text": text,
        "department_code": proposal.code,
        "department_name": proposal.name,
        "department_short_name": proposal.short_name,
    }
    return NewDepartmentForm(formdata=None, data=data)


@bp.route("/department", methods=["POST"])
def create_department_from_import() -> ResponseReturnValue:
    """An administrator creates a department the previewed attachment names: first POST, a
    confirmation page saying exactly what will be created; confirmed, the department is
    created (audited) and the same attachment is previewed again, without uploading it."""
    require_manage_departments(current_user)
    form = NewDepartmentForm()
    if not form.validate_on_submit():
        flash("预览信息有误，未新建部门，请重新预览。", "error")
        retry = ImportForm()
        retry.validate()
        return render_template("imports/new.html", form=retry), 422
    assert form.text.data is not None and form.department_name.data is not None
    code, name = form.department_code.data or "", form.department_name.data
    short_name = form.department_short_name.data or name
    if not confirmed():
        fields = {f.name: f.data or "" for f in form if f.name not in ("csrf_token", "submit")}
        return confirmation_page(
            title=f"新建部门：{name}",
            lines=[
                f"新建部门「{name}」：代码 {code}，全称 {name}，简称 {short_name}，没有别称；",
                "新部门为启用状态，排在部门列表最后；以后可在部门页面改名、修改简称和别称；",
                f"新建后继续预览文件 {form.number.data} 的同一份附件，无需重新上传；",
                "此操作记入审计日志。",
            ],
            action=url_for("imports.create_department_from_import"),
            button="确认新建部门",
            cancel=url_for("imports.new"),
            fields=fields,
        )
    text = form.text.data
    on_error_render(lambda error: _department_refused(form, text, error))
    actor: User = current_user._get_current_object()
    department = create_department(
        code,
        DepartmentInput(name=name, short_name=short_name),
        actor=actor,
        action="department.create_from_import",
    )
    flash(f"已新建部门「{department.name}」（代码 {department.code}），请继续核对预览。", "success")
    return _preview(form, text)


def _department_refused(
    form: NewDepartmentForm, text: str, error: DomainError
) -> ResponseReturnValue:
    """The department could not be created (its name or code was taken meanwhile): the same
    preview again, with the reason."""
    flash(f"未新建部门：{error.message}", "error")
    return _preview(form, text), 422


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
