"""Staff workspace."""
from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/<any(fi,sv):lang>/staff")
from webapp.staff import views  # noqa: E402,F401
