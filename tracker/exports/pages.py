"""``/audit/export.xlsx``: the auditor's filtered audit trail as a workbook.

Beside the auditor's page (``tracker/audit/routes.py``) in URL, apart from it in code: the
workbook writer belongs to this package, which sits above the audit domain.
"""

from __future__ import annotations

import tempfile

from flask import redirect, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker import clock
from tracker.audit.forms import TrailFilterForm
from tracker.audit.services import record_event
from tracker.auth.permissions import require_read_audit_trail
from tracker.catalogue import queries as catalogue_queries
from tracker.exports import audit_bp
from tracker.exports.audit_trail import write_audit_trail

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPOOL_BYTES = 8 * 1024 * 1024


@audit_bp.route("/export.xlsx")
def workbook() -> ResponseReturnValue:
    """The rows the page's filters select, every one of them; wrong filters go back to the
    page, which says what is wrong."""
    require_read_audit_trail(current_user)
    departments = {d.id: d.name for d in catalogue_queries.departments()}
    form = TrailFilterForm(request.args)
    form.fill(list(departments.items()))
    if not form.validate():
        query = request.query_string.decode()
        return redirect(f"{url_for('audit.index')}?{query}", 303)
    name = f"审计日志-{clock.local_now():%Y%m%d-%H%M}.xlsx"
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - send_file closes it
    rows = write_audit_trail(spool, form.to_filter(), departments, "审计日志")
    spool.seek(0)
    record_event("export.download", actor=current_user, object_type="export",
                 after={"filename": name, "rows": rows, "filters": form.filter_args()})  # fmt: skip
    return send_file(spool, mimetype=XLSX, as_attachment=True, download_name=name, max_age=0)
