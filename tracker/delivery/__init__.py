"""Delivery plans (序时进度): milestones and indicators per item, approved by 民政部."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("delivery", __name__)
