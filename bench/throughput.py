"""Closed-loop throughput of a few pages against a running node, next to a hello-world baseline.

    .venv/bin/python bench/throughput.py --url http://127.0.0.1:5110 --hello http://127.0.0.1:5113 \
        --seconds 10 --clients 8

The machine may be shared: the hello-world server (bench/hello.py, same gunicorn settings) measured in the
same run gives ratios that mean something on any machine. Each figure runs for --seconds (keep the total
under a minute).
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time

import requests


def measure(url: str, seconds: float, clients: int) -> tuple[float, float, int]:
    """(requests per second, p95 latency in ms, errors) of `clients` threads fetching `url` back to back."""
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds

    def loop() -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                ok = session.get(url, timeout=30).status_code < 500
            except requests.RequestException:
                ok = False
            latencies.append(time.perf_counter() - started)
            if not ok:
                errors[0] += 1

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    p95 = statistics.quantiles(latencies, n=20)[-1] * 1000 if len(latencies) > 20 else float("nan")
    return len(latencies) / elapsed, p95, errors[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--hello", required=True)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    pages = {"hello world": args.hello + "/",
             "search page": args.url + "/fi/search?q=terveysasema",
             "search API": args.url + "/api/v1/units?q=hammashoitola",
             "unit page": args.url + "/fi/units/5",
             "readyz": args.url + "/readyz"}
    base = None
    for name, url in pages.items():
        rps, p95, errors = measure(url, args.seconds, args.clients)
        base = base or rps
        print(f"{name:12s} {rps:8.1f} req/s  p95 {p95:7.1f} ms  errors {errors}  ({rps / base:.2f} of hello world)")


if __name__ == "__main__":
    main()
