"""Help: the 操作说明 page of each role and the public sign-in help."""

from flask import Blueprint

bp = Blueprint("help", __name__, url_prefix="/help")
