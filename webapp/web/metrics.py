"""Prometheus metrics (prometheus_client): requests and latency by endpoint, index lag, choices.

With several gunicorn workers set PROMETHEUS_MULTIPROC_DIR to an empty directory before the workers
start: every worker then writes its samples there and `/metrics` adds them up across the workers
(prometheus_client's multiprocess mode; gunicorn.conf.py removes a dead worker's gauges). Without it a
single process reports its own counters. Labels are endpoint names, methods, status codes and reason
codes only: never a path with an id, a name or anything else personal.
"""
from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REQUESTS = Counter("valinta_http_requests_total", "HTTP requests answered", ["endpoint", "method", "status"])
LATENCY = Histogram("valinta_http_request_duration_seconds", "Time to answer a request", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
INDEX_LAG_ROWS = Gauge("valinta_index_lag_rows", "Change-log rows this node's search index has not applied",
                       multiprocess_mode="livemax")
INDEX_LAG_SECONDS = Gauge("valinta_index_lag_seconds", "Age of the oldest change-log row not yet applied",
                          multiprocess_mode="livemax")
INDEX_HEAD = Gauge("valinta_index_log_head", "The last change-log row this node's index includes",
                   multiprocess_mode="livemin")
CHOICES = Counter("valinta_choices_total", "Choices submitted, by outcome and refusal reason",
                  ["outcome", "reason", "channel"])


def count_choice(status: str, reasons: tuple = (), channel: str = "web") -> None:
    """status: created | duplicate | refused; a refusal counts once per reason code."""
    if status == "refused":
        for reason in reasons or ("unknown",):
            CHOICES.labels("refused", getattr(reason, "code", str(reason)), channel).inc()
    else:
        CHOICES.labels(status, "", channel).inc()


def observe_index(head: int, behind: int, lag_seconds: float) -> None:
    INDEX_HEAD.set(head)
    INDEX_LAG_ROWS.set(max(behind, 0))
    INDEX_LAG_SECONDS.set(lag_seconds if lag_seconds != float("inf") else 1e9)


def exposition() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("request_started")
        if started is not None:
            endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
            REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response
