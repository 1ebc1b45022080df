"""The merge policy for the small segments updates leave (webapp/search/merging.py): pure, no index needed."""
from __future__ import annotations

import pytest

from webapp.search.merging import MERGE_FACTOR, merge_start, tier

BUILD = [5001, 4999]  # a two-process build


@pytest.mark.parametrize(("docs", "expected"), [(1, 0), (5, 0), (6, 1), (35, 1), (36, 2), (215, 2), (216, 3)])
def test_tiers_are_six_fold_document_counts(docs, expected):
    assert tier(docs) == expected


def test_no_merge_before_six_small_segments_and_six_merged_at_the_sixth():
    assert merge_start(BUILD + [1] * (MERGE_FACTOR - 1)) is None  # the day before, so to say
    assert merge_start(BUILD + [1] * MERGE_FACTOR) == len(BUILD)   # the sixth one-unit segment
    assert merge_start(BUILD) is None and merge_start([]) is None


def test_only_the_newest_small_segments_are_merged_not_the_segment_an_earlier_merge_made():
    """MERGE_SMALL re-merged its earlier result each time (cost growing with every merge); here a tier-1
    segment stays until six of its size have gathered."""
    segments = BUILD + [6] + [1] * MERGE_FACTOR
    assert merge_start(segments) == len(BUILD) + 1


def test_the_smallest_tier_whose_trailing_run_holds_six_segments_is_merged():
    segments = BUILD + [6, 7, 6, 8, 6] + [1] * MERGE_FACTOR  # five tier-1 segments and six tier-0
    assert merge_start(segments) == len(BUILD) + 5  # first the tier-0 ones: their result is the sixth tier-1
    segments = [*BUILD, 6, 7, 6, 8, 6, 6, 1, 2]
    assert merge_start(segments) == len(BUILD)  # six tier-1 segments: they and the small ones after them
    segments = BUILD + [1] * MERGE_FACTOR + [12]  # a batch of twelve units written after six single ones
    assert merge_start(segments) is None  # the single ones wait behind it until six of its size gather
    assert merge_start(segments + [12] * (MERGE_FACTOR - 1)) == len(BUILD)


def test_a_merged_segment_is_not_merged_again_with_the_small_ones_piling_up_behind_it():
    """The first version of this policy merged a run of six of any size: a 71-unit segment was re-merged
    with every five single ones (a merge of 76 units every fifth change, growing)."""
    assert merge_start(BUILD + [71] + [1] * (MERGE_FACTOR - 1)) is None
    assert merge_start(BUILD + [71] + [1] * MERGE_FACTOR) == len(BUILD) + 1


def test_the_segments_of_a_build_are_never_merged_with_the_small_ones():
    assert merge_start([*BUILD, 40, 6, 1, 1, 1]) is None  # seven segments, but the run of small ones is five
    assert merge_start([5000] * 7) is None


def test_only_a_suffix_is_merged_so_earlier_segments_keep_their_document_numbers():
    segments = [*BUILD, 40, 6, 6, 6, 6, 6, 6, 1]
    start = merge_start(segments)
    assert start == len(BUILD) + 1 and all(n >= 6 for n in segments[start:-1])
    assert merge_start([1] * MERGE_FACTOR + [5000]) is None  # small ones before a large one: not a suffix


def test_merges_that_wait_for_a_pause_are_done_anyway_past_max_pending_small_segments():
    from webapp.search.merging import MAX_PENDING, too_many_pending
    assert not too_many_pending(BUILD + [1] * (MAX_PENDING - 1))
    assert not too_many_pending(BUILD + [1] * MAX_PENDING)       # the day of: still waits
    assert too_many_pending(BUILD + [1] * (MAX_PENDING + 1))     # the day after: merged now
    assert not too_many_pending([5000] * (MAX_PENDING + 1))      # segments of a build are not small ones
    assert merge_start(BUILD + [1] * (MAX_PENDING + 1)) == len(BUILD)  # and the run to merge is all of them
