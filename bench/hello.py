"""A hello-world WSGI app: the baseline for bench/throughput.py (`gunicorn bench.hello:app`)."""


def app(environ, start_response):  # noqa: ANN001, ANN201
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
