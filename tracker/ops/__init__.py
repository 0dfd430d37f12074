"""Operations endpoints: readiness (``/readyz``, public) and metrics (``/metrics``, token).

``/healthz`` (alive, no database) is the app's own route in :func:`tracker.create_app`.
"""

from flask import Blueprint

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("ops", __name__)
