"""Unit search: the Whoosh index on disk (index.py), its per-process snapshot (snapshots.py), parameter
parsing (params.py) and executing a search (query.py).

Public functions:
- `rebuild_index(sess, index_dir) -> int` — build a fresh index and switch to it atomically.
- `update_units(sess, index_dir, unit_ids) -> int` — re-index changed units (hidden/deleted ones removed).
- `known_from_db(sess) -> Known`, `parse_params(args, known)`, `run_search(sess, index_dir, params, lang)`.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.search import reference
from webapp.search.reference import postcode_origin
from webapp.search.index import rebuild_index, update_units
from webapp.search.params import (FIELD_LABELS, PER_PAGE, SORT_LABELS, SORTS, Known, ParamError, SearchParams,
                                  field_label, parse_params)
from webapp.search.query import FACET_GROUPS, SearchResult, execute
from webapp.search.snapshots import IndexMissing, snapshot

__all__ = ["rebuild_index", "update_units", "known_from_db", "parse_params", "run_search", "SearchParams",
           "SearchResult", "ParamError", "Known", "FACET_GROUPS", "FIELD_LABELS", "SORT_LABELS", "SORTS", "PER_PAGE",
           "field_label", "postcode_origin"]


def known_from_db(sess: Session) -> Known:
    return reference.known(sess)


def run_search(sess: Session, index_dir: str, params: SearchParams, lang: str = "fi", facets: bool = True,
               paginate: bool = True) -> SearchResult:
    """Execute a search; builds the index first if there is none yet."""
    try:
        snap = snapshot(index_dir)
    except IndexMissing:
        rebuild_index(sess, index_dir)
        snap = snapshot(index_dir)
    return execute(snap, params, lang=lang, facets=facets, paginate=paginate)
