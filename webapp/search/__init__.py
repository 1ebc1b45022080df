"""Unit search: the Whoosh index on disk (index.py), its per-process snapshot (snapshots.py), parameter
parsing (params.py) and executing a search (query.py).

Public functions:
- `rebuild_index(sess, index_dir) -> int` — build a fresh index and switch to it atomically.
- `update_units(sess, index_dir, unit_ids) -> int` — re-index changed units (hidden/deleted ones removed).
- `catch_up(sess, index_dir)` (follow.py) — bring this node's index up to the change log's head.
- `known_from_db(sess) -> Known`, `parse_params(args, known)`, `run_search(sess, index_dir, params, lang)`.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.search import reference
from webapp.search.follow import catch_up
from webapp.search.reference import postcode_origin
from webapp.search.index import rebuild_index, update_units
from webapp.search.params import FIELD_LABELS, PER_PAGE, SORT_LABELS, SORTS, Known, ParamError, SearchParams, field_label, parse_params
from webapp.search.query import FACET_GROUPS, SearchResult, execute
from webapp.search.snapshots import IndexMissing, snapshot

__all__ = ["catch_up", "rebuild_index", "update_units", "known_from_db", "parse_params", "run_search", "SearchParams",
           "SearchResult", "ParamError", "Known", "FACET_GROUPS", "FIELD_LABELS", "SORT_LABELS", "SORTS", "PER_PAGE",
           "field_label", "postcode_origin"]


def known_from_db(sess: Session) -> Known:
    return reference.known(sess)


def run_search(sess: Session, index_dir: str, params: SearchParams, lang: str = "fi", facets: bool = True,
               paginate: bool = True) -> SearchResult:
    """Execute a search on this node's index, first brought up to the database's change log (follow.py);
    a node without an index builds it first."""
    settings = sync_settings()
    catch_up(sess, index_dir, **settings)
    try:
        snap = snapshot(index_dir, max_age_ms=settings["interval_ms"])
    except IndexMissing:  # another worker is building the first index: wait for it
        catch_up(sess, index_dir, force=True)
        snap = snapshot(index_dir)
    return execute(snap, params, lang=lang, facets=facets, paginate=paginate)


def sync_settings() -> dict:
    """catch_up's settings from the current app: INDEX_SYNC_INTERVAL_MS, INDEX_MERGE_IDLE_MS and the app's
    context for the merger's thread (it writes documents with the app's translations). Outside an app: check
    every time, merge at once."""
    from flask import current_app, has_app_context
    if not has_app_context():
        return {"interval_ms": 0, "merge_idle_ms": 0, "merge_context": None}
    app = current_app._get_current_object()  # noqa: SLF001
    return {"interval_ms": int(app.config.get("INDEX_SYNC_INTERVAL_MS", 50)),
            "merge_idle_ms": int(app.config.get("INDEX_MERGE_IDLE_MS", 0)), "merge_context": app.app_context}
