"""Notifications: the bell's in-app messages and the e-mail outbox that carries them."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("notifications", __name__)
