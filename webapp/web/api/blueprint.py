"""The `api` blueprint; its routes are in the modules that webapp/web/api/__init__.py imports."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

