"""The baseline for bench/served.py: the smallest Flask app, served by the same gunicorn settings."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
@app.get("/<path:_path>")
def hello(_path: str = "") -> str:
    return "Hello, world!"
