"""The ONE place for accessibility-check exclusions used by tests/browser/.

Fix problems in templates and CSS instead of adding entries here. An entry is right only when the
check itself is wrong for this service; each entry says why. Keep the lists short and reviewed.
"""
from __future__ import annotations

# axe-core rule tags that must have zero violations (WCAG 2.1 A and AA).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# axe rule id -> reason. Rules listed here are not run at all.
AXE_DISABLED_RULES: dict[str, str] = {}

# (url regex, axe rule id, CSS selector regex) -> reason. A violation node matching all three is ignored.
AXE_IGNORED_NODES: dict[tuple[str, str, str], str] = {}

# Nu HTML Checker messages (regex on the message text) -> reason.
VNU_IGNORED_MESSAGES: dict[str, str] = {}

# Elements whose clipped content is intended (CSS selector matched with Element.matches) -> reason.
CLIP_ALLOWED_SELECTORS: dict[str, str] = {
    ".visually-hidden": "Text for screen readers only, hidden on purpose by the clip pattern.",
    ".skip-link": "Off screen until focused; it is checked separately when focused.",
    ".table-wrap": "Wide tables scroll inside their own box (WCAG 1.4.10 allows two-dimensional tables to scroll).",
}

# Elements allowed to be wider than the viewport at 320 px: none. (Tables scroll inside .table-wrap.)
REFLOW_ALLOWED_SELECTORS: dict[str, str] = {}
