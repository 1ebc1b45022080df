"""The `choice` blueprint; its routes are in the modules that webapp/web/choice/__init__.py imports."""
from flask import Blueprint

bp = Blueprint("choice", __name__, url_prefix="/<any(fi,sv,en):lang>", cli_group=None)
