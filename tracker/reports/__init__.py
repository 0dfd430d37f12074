"""Quarterly progress reporting: obligations, reports, review, consolidation, timeliness."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("reports", __name__)
