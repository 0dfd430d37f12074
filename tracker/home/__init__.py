"""Landing pages: the to-do block each role sees where it lands, and the administrator's home."""

from flask import Blueprint

bp = Blueprint("home", __name__)
