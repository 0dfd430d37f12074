"""Excel: the quarterly workbook, and the department template for offline reporting."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("exports", __name__, url_prefix="/exports")
