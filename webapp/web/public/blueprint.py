"""The `public` blueprint; its routes are in the modules that webapp/web/public/__init__.py imports."""
from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/<any(fi,sv,en):lang>")

