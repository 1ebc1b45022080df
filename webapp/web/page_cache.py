"""Whole public responses for visitors without a session, kept per process and keyed by what they show.

A visitor who has not identified, chosen no accessibility profile and has no message waiting has no session
cookie. For them a search page, the API, the home page, a unit page and a comparison depend only on the
address, the data and the day. The data is what the search index holds, and the index follows the change
log (webapp/search/service.py), which names every unit whose public data changed (webapp/search/changelog.py). So
such a response is kept (an LRU bounded in bytes, `PAGE_CACHE_MB` per process; 0 turns it off) under:

- the scheme and host, the full address (path and query string: every parameter) and the language (the path's, or for
  the API without `lang=` the browser's);
- the live index version and, per scope: its generation (search, API list, home: any change re-renders
  them), or the stamp of each shown unit's document, which is new with every write of that document
  (unit page, API unit, comparison: only a change to those units re-renders them);
- the reference data's load time (pilot and municipality names, webapp.search.SearchIndex.reference) and today's date.

Before the key is made the index is brought up to the log's head (throttled like every search,
INDEX_SYNC_INTERVAL_MS), so a page is never older than the search results beside it. Nothing is kept when the
request has a session cookie, the view touched the session (a CSRF token, a remembered profile), or the
answer is not 200 or is `no-store`. A response from the cache still goes through the security headers and
compression like any other.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import current_app, make_response, request, session

from webapp.core.validation import is_whole_number
from webapp.web import db
from webapp.web.clock import today
from webapp.web.i18n import current_lang

Scope = Callable[..., "tuple | None"]


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    headers: tuple  # as the view set them (Content-Type and any other), without Content-Length


class ByteLRU:
    """Least recently used entries, at most `limit` bytes of bodies in all (thread-safe)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._items: dict = {}  # insertion order = recency (oldest first)
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Entry | None:
        with self._lock:
            entry = self._items.pop(key, None)
            if entry is not None:
                self._items[key] = entry
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        if len(entry.body) > self.limit // 8:  # one page may not push out most of the others
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self._items[key] = entry
            self.size += len(entry.body)
            while self.size > self.limit:
                evicted = self._items.pop(next(iter(self._items)))
                self.size -= len(evicted.body)

    def __len__(self) -> int:
        return len(self._items)


def _store(app) -> ByteLRU | None:  # noqa: ANN001
    store = app.extensions.get("page_cache")
    if store is None:
        limit = int(float(app.config.get("PAGE_CACHE_MB", 64)) * 1024 * 1024)
        store = app.extensions["page_cache"] = ByteLRU(limit) if limit > 0 else False
    return None if store is False else store  # (an empty ByteLRU is falsy: it has a length)


# ---------------------------------------------------------------- scopes: what a page shows of the index

def whole_index(snap, **_kwargs: object) -> tuple:  # noqa: ANN001
    """Pages built from the whole index (search, API list, home)."""
    return ("generation", snap.generation)


def one_unit(snap, unit_id, **_kwargs: object) -> tuple | None:  # noqa: ANN001
    """A unit's page: current while its document is; None (not kept) for a unit not in the index."""
    if not is_whole_number(str(unit_id)):
        return None
    stamp = snap.stamp_of(int(unit_id))
    return None if stamp is None else ("unit", stamp)


def compared_units(snap, **_kwargs: object) -> tuple | None:  # noqa: ANN001
    raw = request.args.getlist("unit")
    if not raw or len(raw) > 10 or not all(is_whole_number(v) for v in raw):
        return None  # the view explains what is wrong; such answers are not kept
    stamps = tuple(snap.stamp_of(int(v)) for v in raw)
    return None if None in stamps else ("units", stamps)


# ---------------------------------------------------------------- the decorator

def _eligible(app) -> bool:  # noqa: ANN001
    return request.method == "GET" and app.config["SESSION_COOKIE_NAME"] not in request.cookies


def _key(app, scope: Scope, view_args: dict) -> tuple | None:  # noqa: ANN001
    search = app.extensions["search"]
    sess = db.session()
    snap = search.current(sess)
    part = scope(snap, **view_args)
    if part is None:
        return None
    # current_lang(): the path's language, or for the API without `lang=` the browser's (Accept-Language).
    return (request.host_url, request.full_path, current_lang(), snap.version, part, search.reference.loaded_at(sess),
            today())


def cached_page(scope: Scope) -> Callable:
    """Keep the view's response for visitors without a session, under the key described above."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            app = current_app._get_current_object()
            store = _store(app)
            key = _key(app, scope, kwargs) if store is not None and _eligible(app) else None
            if key is not None:
                entry = store.get(key)
                if entry is not None:
                    response = app.response_class(entry.body, headers=list(entry.headers))
                    response.vary.add("Cookie")  # as the rendered page had (it read the session)
                    return response
            response = make_response(view(*args, **kwargs))
            if key is not None and _storable(response):
                headers = tuple((k, v) for k, v in response.headers.items() if k.lower() != "content-length")
                store.put(key, Entry(response.get_data(), headers))
            return response
        return wrapper
    return decorate


def _storable(response) -> bool:  # noqa: ANN001
    return (response.status_code == 200 and not response.direct_passthrough and not session.modified
            and "Set-Cookie" not in response.headers and not response.cache_control.no_store)
