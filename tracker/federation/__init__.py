"""The cascade: instances of this same software at each level talking over the JSON API.

The centre registers member instances (provinces) and issues each an instance token; a
province adopts a central document (pulled with that token, or from an exported file), maps
the central departments to its own, breaks items down, and reports each quarter up once: a
signed, idempotent roll-up sent through its push outbox. See docs/federation.md.
"""

from flask import Blueprint

# The coordinators' and administrators' pages (session, CSRF like every page): routes.py.
bp = Blueprint("federation", __name__, url_prefix="/federation")
# What other instances call: instance tokens and signatures, never the session (routes.py).
api_bp = Blueprint("federation_api", __name__, url_prefix="/api/v1/federation")
