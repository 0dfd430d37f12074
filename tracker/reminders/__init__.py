"""Reminders and follow-up: the escalation ladder, notifications, the e-mail outbox, 催办 with
签收, 延期申请, and the one scheduler process that runs the daily pass and the mail sender."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("reminders", __name__)
