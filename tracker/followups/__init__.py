"""Follow-ups on one obligation: 催办 (urges) with 签收, and 延期申请 (extension requests)."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("followups", __name__)
