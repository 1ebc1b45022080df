"""Placeholder; the search work replaces this with the Whoosh index."""


def rebuild_index(sess, index_dir: str) -> int:  # noqa: ANN001
    return 0
