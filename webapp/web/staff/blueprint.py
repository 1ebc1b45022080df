"""The `staff` blueprint; its routes are in the modules that webapp/web/staff/__init__.py imports."""
from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/<any(fi,sv,en):lang>/staff", cli_group=None)
