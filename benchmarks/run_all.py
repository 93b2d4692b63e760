"""Every benchmark, one JSON line of all their figures, and docs/benchmarks.md.

    .venv/bin/python benchmarks/run_all.py            # full size (several minutes)
    .venv/bin/python benchmarks/run_all.py --small    # seconds: the CI smoke run

Each benchmark runs in its own process and prints its figures as its last line; this only
gathers them. Benchmarks measure; none of them fails on a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

SIZES: dict[str, dict[str, list[str]]] = {
    "full": {
        "bookkeeping_transform": ["--orders", "20000"],
        "woocommerce_sandbox": ["--orders", "100000"],
        "exact_sandbox": ["--bookings", "100000"],
        "exact_client": ["--calls", "300"],
        "pipeline": ["--days", "90", "--orders-per-day", "40"],
        "pipeline_100k_orders": ["--days", "90", "--orders-per-day", "1111", "--extract-only"],
        "pipeline_bulk_50k_orders": [
            *("--days", "365", "--orders-per-day", "137", "--bulk"),
            *("--exact-daily-limit", "5000"),
        ],
        "shops": ["--shops", "1", "10", "50"],
    },
    "small": {
        "bookkeeping_transform": ["--orders", "2000", "--repeat", "1"],
        "woocommerce_sandbox": ["--orders", "2000", "--pages", "5"],
        "exact_sandbox": ["--bookings", "2000", "--seconds", "1"],
        "exact_client": ["--calls", "30"],
        "pipeline": ["--days", "5", "--orders-per-day", "20"],
        "pipeline_bulk": ["--days", "5", "--orders-per-day", "20", "--bulk"],
        "shops": ["--shops", "1", "3"],
    },
}

#: The benchmarks run by a script of another name (the same one at another size or mode).
SCRIPTS = {
    "pipeline_100k_orders": "pipeline",
    "pipeline_bulk_50k_orders": "pipeline",
    "pipeline_bulk": "pipeline",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="run every benchmark small")
    size = "small" if parser.parse_args().small else "full"
    figures: dict[str, object] = {}
    for name, arguments in SIZES[size].items():
        script = HERE / f"{SCRIPTS.get(name, name)}.py"
        print(f"running {script.name} {' '.join(arguments)}", file=sys.stderr)
        finished = subprocess.run(
            [sys.executable, str(script), *arguments],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        figures[name] = json.loads(finished.stdout.strip().splitlines()[-1])
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )
    summary = {"size": size, "machine": machine, "figures": figures}
    print(json.dumps(summary))
    write_report(summary)


def write_report(summary: dict) -> None:
    lines = [
        "# Benchmark figures",
        "",
        f"Written by `benchmarks/run_all.py` ({summary['size']} size) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {summary['machine']}.",
        "Regenerate with `make bench`.",
        "",
    ]
    for name, figures in summary["figures"].items():
        lines += [f"## {name}", "", "| figure | value |", "| --- | --- |"]
        lines += [f"| {key} | {value} |" for key, value in figures.items()]
        lines.append("")
    (REPO / "docs").mkdir(exist_ok=True)
    (REPO / "docs" / "benchmarks.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
