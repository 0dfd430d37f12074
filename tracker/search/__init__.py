"""Search: Chinese-aware full-text search over tasks and reports, limited to what a user reads."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("search", __name__)
