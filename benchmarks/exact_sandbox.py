"""Benchmark of the Exact Online sandbox: read throughput on one core, memory per booking.

Prints one JSON line. The server runs in a child process pinned to one CPU core with the
given number of sales entries preloaded; the parent (on another core when there is one)
fires reads over keep-alive connections for a few seconds.

    .venv/bin/python benchmarks/exact_sandbox.py                 # 100,000 bookings
    .venv/bin/python benchmarks/exact_sandbox.py --bookings 1000 --seconds 1
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import threading
import time
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlencode, urlsplit


def _rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _pin(core: int) -> None:
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[core % len(cores)]})


def _entry(sandbox: Any, number: int) -> dict[str, Any]:
    # A typical webshop order: two products at different rates and shipping.
    return {
        "Journal": "70",
        "Customer": sandbox.seeded_id("account", "2"),
        "EntryDate": "2026-03-01T00:00:00",
        "YourRef": f"WEB-{number:07d}",
        "Description": f"Order WEB-{number:07d}",
        "SalesEntryLines": [
            {"GLAccount": sandbox.seeded_id("gl", "8000"), "AmountFC": "41.98", "VATCode": "2"},
            {"GLAccount": sandbox.seeded_id("gl", "8010"), "AmountFC": "12.35", "VATCode": "1"},
            {"GLAccount": sandbox.seeded_id("gl", "8300"), "AmountFC": "4.95"},
        ],
    }


def _serve(bookings: int, pipe: Connection) -> None:
    from woo_exact_pipeline.sandbox.exact import ExactSandbox

    _pin(0)
    sandbox = ExactSandbox(minute_limit=10**9, daily_limit=10**9)
    before = _rss_bytes()
    started = time.perf_counter()
    sandbox.preload_sales_entries(_entry(sandbox, n) for n in range(bookings))
    booking_seconds = time.perf_counter() - started
    grown = _rss_bytes() - before
    sandbox.start()
    pipe.send(
        {
            "api_url": sandbox.api_url,
            "tokens": sandbox.issue_tokens_for_tests(),
            "memory_bytes": grown,
            "booking_seconds": booking_seconds,
        }
    )
    pipe.recv()  # wait until the parent has measured
    sandbox.stop()


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _hammer(url: str, params: dict[str, str], headers: dict[str, str], seconds: float) -> int:
    # http.client rather than httpx: its per-request cost is small enough that the server,
    # not the load generator, is what gets measured.
    parts = urlsplit(url)
    target = f"{parts.path}?{urlencode(params)}"
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
    done = 0
    stop_at = time.perf_counter() + seconds
    try:
        while time.perf_counter() < stop_at:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"read failed: {response.status} {body[:200]!r}")
            done += 1
    finally:
        connection.close()
    return done


def _requests_per_second(
    url: str,
    params: dict[str, str],
    headers: dict[str, str],
    seconds: float,
    clients: int,
    server_pid: int,
) -> tuple[float, float]:
    """Requests per second, and the share of its core the server was busy meanwhile."""
    counts: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        count = _hammer(url, params, headers, seconds)
        with lock:
            counts.append(count)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    cpu_before = _cpu_seconds(server_pid)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return sum(counts) / elapsed, (_cpu_seconds(server_pid) - cpu_before) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    parent_end, child_end = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(args.bookings, child_end)
    )
    server.start()
    ready = parent_end.recv()
    _pin(1)
    api_url = ready["api_url"]
    headers = {
        "Authorization": f"Bearer {ready['tokens']['access_token']}",
        "Accept": "application/json",
    }
    middle = f"WEB-{args.bookings // 2:07d}"
    reads = {
        "journals_list": (f"{api_url}/financial/Journals", {"$select": "ID,Code,Type"}),
        "entry_by_your_ref": (
            f"{api_url}/salesentry/SalesEntries",
            {"$filter": f"YourRef eq '{middle}' and Journal eq '70'", "$select": "EntryID"},
        ),
    }
    throughput: dict[str, float] = {}
    server_busy: dict[str, float] = {}
    for name, (url, params) in reads.items():
        rate, busy = _requests_per_second(
            url, params, headers, args.seconds, args.clients, server.pid or 0
        )
        throughput[name] = round(rate, 1)
        server_busy[name] = round(busy, 2)
    parent_end.send("done")
    server.join(timeout=30)
    print(
        json.dumps(
            {
                "benchmark": "exact_sandbox",
                "bookings": args.bookings,
                "lines_per_booking": 3,
                "server_cores": 1,
                "client_threads": args.clients,
                "read_requests_per_second": throughput,
                # Below 1.0 the client, not the server, was the limit; dividing the rate by
                # the share estimates what the server's one core could take.
                "server_core_busy_share": server_busy,
                "server_capacity_estimate_rps": {
                    name: round(throughput[name] / server_busy[name])
                    for name in throughput
                    if server_busy[name] > 0
                },
                "memory_bytes_for_bookings": ready["memory_bytes"],
                "memory_bytes_per_booking": round(ready["memory_bytes"] / max(args.bookings, 1)),
                "bookings_per_second_without_http": round(
                    args.bookings / max(ready["booking_seconds"], 1e-9)
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
