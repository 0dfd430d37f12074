"""Audit trail: who did what, when, from where and how it ended, chained by hash; the
auditor's page reads it."""

from flask import Blueprint

# The auditor's page attaches itself in routes.py, imported by create_app(); its Excel export
# is the exports package's (tracker/exports/pages.py), which owns the workbook writer.
bp = Blueprint("audit", __name__, url_prefix="/audit")
