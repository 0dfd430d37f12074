"""Importing a policy document's 任务分工 attachment from its text: parser, command and page."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("imports", __name__, url_prefix="/imports")
