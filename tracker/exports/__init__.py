"""Excel: the quarterly workbook, and the department template for offline reporting."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("exports", __name__, url_prefix="/exports")
# The audit trail's workbook (the auditor's page is the audit package's): pages.py.
audit_bp = Blueprint("audit_export", __name__, url_prefix="/audit")
