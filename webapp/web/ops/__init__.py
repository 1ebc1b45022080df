"""Endpoints for the load balancer and monitoring: /healthz, /readyz, /metrics (no language prefix)."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from webapp.web import db, metrics

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)
READY_LAG_SECONDS = 5.0


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process answers (liveness): no database, no disk."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready for traffic: the database answers and this node's index is at the change log's head
    (brought there now; a node without an index builds it first) or at most READY_LAG_SECONDS behind."""
    sess = db.session()
    try:
        sess.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        log.warning("readyz: database unreachable: %s", exc.__class__.__name__)
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    search = current_app.extensions["search"]
    try:
        search.check_sequence(sess)
        search.catch_up(sess)
        state = search.status(sess)
    except Exception as exc:
        log.exception("readyz: search index cannot follow the database")
        return jsonify({"status": "unavailable", "database": "ok", "index": exc.__class__.__name__}), 503
    finally:
        sess.rollback()
    metrics.observe_index(state.head, state.behind, state.lag_seconds)
    ready = state.behind == 0 or state.lag_seconds <= READY_LAG_SECONDS
    body = {"status": "ok" if ready else "unavailable", "database": "ok", "index_head": state.head,
            "index_behind": state.behind, "index_lag_seconds": round(state.lag_seconds, 3)}
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics_view() -> ResponseReturnValue:
    sess = db.session()
    try:
        state = current_app.extensions["search"].status(sess)
        metrics.observe_index(state.head, state.behind, state.lag_seconds)
    except Exception:  # noqa: BLE001  the metrics still answer when the database does not
        log.warning("metrics: index lag unknown (database unreachable)")
    finally:
        sess.rollback()
    return metrics.exposition()
