"""Strong identification of residents: the test provider and the OIDC adapter."""
from flask import Blueprint

bp = Blueprint("identity", __name__, url_prefix="/<any(fi,sv):lang>/identify")
