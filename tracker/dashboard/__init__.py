"""The accountability dashboard: RAG matrix, lead-department scorecards, trends, snapshots."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("dashboard", __name__)
