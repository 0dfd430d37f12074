"""Sign-in, users and the permission module."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("auth", __name__)
