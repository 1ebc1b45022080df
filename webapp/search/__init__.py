"""Unit search. This module is the package's whole public surface: nothing outside webapp/search imports
its submodules.

- `SearchIndex` (service.py): a process's search state, in `app.extensions["search"]`: `search()`,
  `current()` (the snapshot), `catch_up()`, `rebuild()`, `status()`, `check_sequence()`, `reference`.
- What a search asks (params.py): `SearchParams`, `Known`, the limits (parsing a query string is the web
  layer's: webapp/web/search_params.py).
- Results (query.py, cards.py): `SearchResult`, `Hit`, `Card`; the cards of some units: `unit_cards()`.
- The change log: `install_change_log()` (changelog.py: every commit that changes units writes a row) and its
  reading (changes.py): `purge()`, `Status`.
"""
from __future__ import annotations

from webapp.search.cards import Card
from webapp.search.changelog import install as install_change_log
from webapp.search.changes import Status, purge
from webapp.search.documents import unit_cards
from webapp.search.params import (
           MAX_Q,
           MAX_RADIUS_KM,
           MAX_T3,
           MULTI_VOCABS,
           PER_PAGE,
           SORTS,
           Known,
           SearchParams,
           default_sort,
)
from webapp.search.query import FACET_GROUPS, Hit, SearchResult
from webapp.search.reference import Reference
from webapp.search.service import SearchIndex
from webapp.search.snapshots import Snapshot

__all__ = ["FACET_GROUPS", "MAX_Q", "MAX_RADIUS_KM", "MAX_T3", "MULTI_VOCABS", "PER_PAGE", "SORTS", "Card", "Hit",
           "Known", "Reference", "SearchIndex", "SearchParams", "SearchResult", "Snapshot", "Status", "default_sort",
           "install_change_log", "purge", "unit_cards"]
