"""The task division: documents, items, departments and their assignments."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("catalogue", __name__)
