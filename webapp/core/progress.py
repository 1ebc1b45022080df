"""Progress of long work (index builds, generating units, imports), for commands and benchmarks.

On a terminal a click progress bar; otherwise (cron, CI, a pipe) a plain line at every tenth of the work,
so logs stay readable. The work itself only calls `advance(n)`: it knows nothing of terminals.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

import click

Advance = Callable[[int], None]


@contextmanager
def progress(label: str, total: int, stream: TextIO | None = None) -> Iterator[Advance]:
    """Yields advance(n); prints what was done and how long it took at the end."""
    stream = stream or sys.stderr
    started = time.perf_counter()
    done = 0
    if stream.isatty():
        with click.progressbar(length=max(total, 1), label=label, file=stream) as bar:
            def advance(n: int = 1) -> None:
                nonlocal done
                done += n
                bar.update(n)
            yield advance
    else:
        step = max(total // 10, 1)

        def advance(n: int = 1) -> None:
            nonlocal done
            before, done = done, done + n
            if done // step != before // step or done == total:
                click.echo(f"{label}: {min(done, total)}/{total}", file=stream)
        yield advance
    click.echo(f"{label}: {done} done in {time.perf_counter() - started:.1f} s", file=stream)
