"""The JSON API for ministries' own systems: bearer tokens, ``/api/v1``, an OpenAPI document.

The API authenticates every request by ``Authorization: Bearer <token>`` alone and never reads
the session cookie, which is why its blueprint may be exempt from CSRF (see ``auth.py``).
"""

from flask import Blueprint

URL_PREFIX = "/api/v1"

# Views attach themselves in routes.py, imported by create_app().
bp = Blueprint("api", __name__, url_prefix=URL_PREFIX)
# The web pages where users manage their own tokens (signed in, CSRF like every page): pages.py.
tokens_bp = Blueprint("tokens", __name__)
