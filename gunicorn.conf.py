"""gunicorn settings read from the working directory (see docs/deployment.md).

With PROMETHEUS_MULTIPROC_DIR set, the metrics of all workers are added up from files in that directory:
it is emptied when the server starts and a dead worker's live gauges are dropped.
"""
import os
import shutil
from pathlib import Path

# Keep idle keep-alive connections longer than the proxy (or a load-test client) leaves them idle, so that
# a connection is never closed just as a request is sent on it (the proxy's upstream keep-alive: 15 s).
keepalive = 20


def on_starting(server):  # noqa: ANN001, ANN201
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        path = Path(folder)
        if path.exists():
            for child in path.iterdir():
                if child.is_file():
                    child.unlink()
                else:
                    shutil.rmtree(child, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)


def post_fork(server, worker):  # noqa: ANN001, ANN201
    # A worker that dies of a signal (SIGSEGV, SIGBUS) prints every thread's Python stack to the log
    # first, so that a crash under load can be traced rather than only counted.
    import faulthandler
    faulthandler.enable()


def child_exit(server, worker):  # noqa: ANN001, ANN201
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)
