"""When and what to merge of the small segments that updates leave (one per write), as a plain function.

Whoosh's MERGE_SMALL re-merges the segment it made last time together with the newest small ones, so the
merged segment grows with every merge and so does the merge's cost: on 10,000 units a merge every four
changes took 100-190 ms, and the change that came in meanwhile waited for the index's write lock.

Here segments fall into size tiers of MERGE_FACTOR-fold document counts (tier 0: 1-5 documents, tier 1: 6-35,
tier 2: 36-215, ...). A merge takes the trailing run of segments of tier <= t once it holds MERGE_FACTOR
segments of tier t, for the smallest such t, and writes them as one segment in their place. So most merges
join six one-unit segments; a merge of larger ones comes about once in 36 changes, a larger one still once in
216. Only the trailing run is planned: the segments before it keep their document numbers, and only the few
written while the merge ran move (the snapshot follows both by difference, snapshot_diff.py). The large segments of a build (tier 4 at
10,000 units) are merged only by a rebuild (`flask index-rebuild`).

A merge reads the run's units anew from the database, writes them as one segment and puts it in the run's
place (segment_merge.py). The web app merges in a thread after a pause in the changes (merger.py), so that
no change waits for a merge; the update that makes a merge due does it itself (index.update_units) when
asked to, or when MAX_PENDING segments of the small tiers have piled up.
"""
from __future__ import annotations

MERGE_FACTOR = 6
# Small segments let pile up while merges wait for a pause in the changes. Each costs a search a few term
# lookups; a burst of one-unit changes this long without a pause of INDEX_MERGE_IDLE_MS is rare (an import
# writes one segment).
MAX_PENDING = 60


def tier(doc_count: int) -> int:
    t, bound = 0, MERGE_FACTOR
    while doc_count >= bound:
        t, bound = t + 1, bound * MERGE_FACTOR
    return t


def merge_start(doc_counts: list[int]) -> int | None:
    """The position from which the segments (live document counts in index order: a segment whose documents
    an update has replaced is as small as what is left of it) are to be merged into one;
    None when no merge is due. The smallest tier t whose trailing run (the segments at the end of tier <= t)
    holds MERGE_FACTOR segments of tier t names the run: a segment is merged with its own kind, never again
    and again with the small ones that pile up behind it. Tiers from the largest segment's on are never merged
    here."""
    tiers = [tier(max(1, n)) for n in doc_counts]
    for t in range(max(tiers, default=0)):
        i = len(tiers)
        while i > 0 and tiers[i - 1] <= t:
            i -= 1
        if sum(1 for x in tiers[i:] if x == t) >= MERGE_FACTOR:
            return i
    return None


def too_many_pending(doc_counts: list[int]) -> bool:
    """More than MAX_PENDING segments below the largest segment's tier: merge now, pause or not."""
    tiers = [tier(max(1, n)) for n in doc_counts]
    top = max(tiers, default=0)
    return sum(1 for t in tiers if t < top) > MAX_PENDING
