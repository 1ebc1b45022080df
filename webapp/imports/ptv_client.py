"""Fetch an organisation's service locations from the PTV Open API (for `flask ptv-sync`).

`GET {base}/api/v11/ServiceChannel/list/organization?organizationId={guid}&page={n}` answers
`V11VmOpenApiServiceChannelsWithPaging`: `{pageNumber, pageSize, pageCount, itemList: [...]}` with
the whole service channels (pages start from 1; no authentication). Channels of other types
than ServiceLocation are left out. Requests time out, and failed connections, 429 and 5xx
answers are retried with exponential backoff (urllib3 Retry); every failure ends in a
PtvFetchError with a message for the operator.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from webapp.core.translation import gettext as _

DEFAULT_BASE_URL = "https://api.palvelutietovaranto.suomi.fi"
LIST_PATH = "/api/v11/ServiceChannel/list/organization"
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_PAGES = 1000


class PtvFetchError(RuntimeError):
    """PTV could not be reached or answered something else than a page of service channels."""


def session(retries: int = 3, backoff: float = 0.5) -> requests.Session:
    """A requests session that retries connection failures, 429 and 5xx with backoff."""
    retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff,
                  status_forcelist=(429, 500, 502, 503, 504), allowed_methods=("GET",),
                  respect_retry_after_header=True, raise_on_status=False)
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["Accept"] = "application/json"
    return s


def _page(http: requests.Session, url: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        response = http.get(url, params=params, timeout=timeout)
    except requests.exceptions.RequestException as exc:
        if _timed_out(exc):
            raise PtvFetchError(_("PTV did not answer in %(seconds)s seconds (%(url)s). "
                              "Nothing was imported; try again later.",
                                  seconds=format(timeout, "g"), url=url)) from None
        # Connection refused, name not resolved, no network, or still failing after the retries.
        raise PtvFetchError(_("PTV cannot be reached at %(url)s. "
                              "Nothing was imported; check the network and the base URL.",
                              url=url)) from None
    return _checked(response, url, params)


def _timed_out(exc: Exception) -> bool:
    """A timeout, also when urllib3 gave up retrying after one (MaxRetryError inside a ConnectionError)."""
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    # NewConnectionError (refused, no route) is a subclass of ConnectTimeoutError in urllib3.
    return isinstance(reason, (ReadTimeoutError, ConnectTimeoutError)) and not isinstance(reason, NewConnectionError)


def _checked(response: requests.Response, url: str, params: dict[str, Any]) -> dict[str, Any]:
    """The page of an answer, or PtvFetchError for an error status or something else than a page."""
    if response.status_code != 200:
        raise PtvFetchError(_("PTV answered with an error (HTTP %(status)d) for page %(page)d: %(text)s. "
                              "Nothing was imported.",
                              status=response.status_code, page=params["page"], text=_snippet(response.text)))
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("itemList", []), list):
        raise PtvFetchError(_("PTV's answer for page %(page)d is not a page of service channels. Nothing was imported.",
                              page=params["page"]))
    return data


def _snippet(text: str) -> str:
    return " ".join((text or "").split())[:200] or "(empty)"


def fetch_service_locations(base_url: str, organization: str, *, timeout: float = 20.0,
                            http: requests.Session | None = None,
                            progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """All service locations of the organisation, page by page. Raises PtvFetchError.

    `progress(page, page_count)` is called after each page.
    """
    if not GUID_RE.match(organization or ""):
        raise PtvFetchError(_("“%(value)s” is not a PTV organisation id "
                              "(a GUID such as 7fdd7f84-e52a-4c17-a59a-d7c2a3095ed5).",
                              value=organization))
    if not re.match(r"^https?://", base_url or ""):
        raise PtvFetchError(_("“%(value)s” is not a web address starting with https:// or http://.", value=base_url))
    url = urljoin(base_url.rstrip("/") + "/", LIST_PATH.lstrip("/"))
    http = http or session()
    items: list[dict[str, Any]] = []
    page, count = 1, 1
    while page <= count:
        data = _page(http, url, {"organizationId": organization, "page": page}, timeout)
        try:
            count = min(max(int(data.get("pageCount") or 1), 1), MAX_PAGES)
        except (TypeError, ValueError):
            raise PtvFetchError(_("PTV's answer for page %(page)d is not a page of service channels. "
                                  "Nothing was imported.",
                                  page=page)) from None
        items += [i for i in data.get("itemList") or []
                  if isinstance(i, dict) and i.get("serviceChannelType", "ServiceLocation") == "ServiceLocation"]
        if progress is not None:
            progress(page, count)
        page += 1
    return items
