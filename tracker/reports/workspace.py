"""The report edit form, and for a lead department its consolidation workspace.

A lead department writes one report for an item from its supporting departments' input. Its
edit form shows, beside its own fields, what each supporting department submitted (every
field, figures, evidence) and which are still missing. Each supporting text has a button that
inserts it into the lead's field of the same name: the button submits the edit form itself
(``name="insert"``), so it works without JavaScript and keeps everything typed so far; the page
comes back with the text in the field, not yet saved.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from tracker.catalogue.services import signoff_required
from tracker.errors import Invalid
from tracker.reports import queries
from tracker.reports.forms import ReportForm
from tracker.reports.labels import FIELD_LABELS
from tracker.reports.limits import MAX_NARRATIVE
from tracker.reports.models import KeyFigure, Obligation
from tracker.reports.sections import obligation_sections
from tracker.reports.services import NARRATIVE_FIELDS

INSERT = "insert"  # the name of the insert buttons; their value says what to insert


@dataclass(frozen=True)
class Inserted:
    """What an insert did: the field to focus, and the words to say so."""

    field: str
    message: str
    category: str = "success"


def edit_page(item: Obligation, form: ReportForm, *, focus: str | None = None) -> str:
    """The edit form; for a lead, with its supporting departments' input beside it."""
    return render_template(
        "reports/edit.html",
        obligation=item,
        form=form,
        supporting=queries.supporting_inputs(item),
        sections=obligation_sections(item, "edit"),
        narrative_fields=[(name, FIELD_LABELS[name]) for name in NARRATIVE_FIELDS],
        focus=focus,
        INSERT=INSERT,
        signoff_required=signoff_required(item.department),
    )


def insert(item: Obligation, form: ReportForm, value: str) -> Inserted:
    """Insert one supporting text or figure, named by an insert button's ``value``, into ``form``.

    ``value`` is ``<obligation id>:<field>`` for a text and ``<obligation id>:figure:<n>`` for
    the n-th figure (from 0). Only a submitted supporting report of the same item and period
    can be inserted from; anything else is refused (:class:`~tracker.errors.Invalid`).
    """
    source_id, _, what = value.partition(":")
    source = next(
        (
            s
            for s in queries.supporting_inputs(item)
            if str(s.obligation.id) == source_id and s.report is not None
        ),
        None,
    )
    if source is None or source.report is None:
        raise Invalid("无法插入：该配合部门的材料尚未报送或已被退回，请刷新页面后重试。")
    department = source.obligation.department.name
    if what.startswith("figure:"):
        return _insert_figure(form, department, source.report.figures, what)
    if what not in NARRATIVE_FIELDS:
        raise Invalid("无法插入：未知的栏目。")
    text = (getattr(source.report, what) or "").strip()
    if not text:
        raise Invalid(f"{department}的“{FIELD_LABELS[what]}”未填写，没有可插入的内容。")
    return _insert_text(form, what, department, text)


def _insert_text(form: ReportForm, name: str, department: str, text: str) -> Inserted:
    field = getattr(form, name)
    label = FIELD_LABELS[name]
    addition = f"{department}：{text}"
    current = (field.data or "").rstrip()
    if addition in current:
        return Inserted(name, f"{department}的“{label}”已插入过，未重复插入。", "info")
    field.data = f"{current}\n\n{addition}" if current else addition
    message = f"已将{department}的“{label}”插入本部门“{label}”栏，尚未保存。"
    if len(field.data) > MAX_NARRATIVE:
        return Inserted(
            name, message + f"插入后超过 {MAX_NARRATIVE} 字，请删减后再保存。", "warning"
        )
    return Inserted(name, message)


def _insert_figure(
    form: ReportForm, department: str, figures: list[KeyFigure], what: str
) -> Inserted:
    index = what.removeprefix("figure:")
    if not index.isdigit() or int(index) >= len(figures):
        raise Invalid("无法插入：该项关键数据不存在，请刷新页面后重试。")
    figure = figures[int(index)]
    value = format(figure.value.normalize(), "f")
    rows = [row.form for row in form.figures]
    for row in rows:
        if (row.name.data or "").strip() == figure.name and (row.value.data or "") == value:
            return Inserted(
                "figures", f"关键数据“{figure.name}”已在本部门报告中，未重复插入。", "info"
            )
    empty = next((row for row in rows if row.is_empty), None)
    if empty is None:
        raise Invalid(
            f"关键数据最多 {len(rows)} 项，请先清空一行再插入{department}的“{figure.name}”。"
        )
    empty.name.data, empty.value.data, empty.unit.data = figure.name, value, figure.unit
    return Inserted("figures", f"已将{department}的关键数据“{figure.name}”插入，尚未保存。")
