"""Reminders: the escalation ladder in working days and the daily reminder pass."""

from flask import Blueprint

# No views: the blueprint checks the ladder's configuration when the app is built.
bp = Blueprint("reminders", __name__)
