"""Counties and the aggregate ledger (台账): counts per county, indicator and quarter."""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("counties", __name__)
