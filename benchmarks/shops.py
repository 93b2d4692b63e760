"""How the code location grows with the number of shops in one deployment.

Every shop gets the whole pipeline of its own, so an agency's code location holds shops x
(assets, checks, jobs, sensors, schedules). This writes a `shops:` sync.yaml with N shops
(copies of sync.shops.example.yaml's first shop with their own name, address, administration
and keys) and measures, each in a fresh process as `dagster dev` or a gRPC code server would
start: importing the code location and building its definitions, and resolving every job
(what the webserver does when it shows them). Prints one JSON line.

    .venv/bin/python benchmarks/shops.py --shops 1 10 50
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

MEASURE = """
import json, time, warnings
started = time.perf_counter()
import dagster as dg
warnings.filterwarnings("ignore", category=dg.BetaWarning)
from woo_exact_pipeline.definitions import defs
definitions = defs()
repository = definitions.get_repository_def()
built = time.perf_counter()
jobs = repository.get_all_jobs()
resolved = time.perf_counter()
print(json.dumps({
    "load_seconds": round(built - started, 2),
    "resolve_jobs_seconds": round(resolved - built, 2),
    "assets": len(definitions.resolve_asset_graph().get_all_asset_keys()),
    "sensors": len(repository.sensor_defs),
    "schedules": len(repository.schedule_defs),
    "jobs": len(jobs),
}))
"""


def agency_file(shops: int, directory: Path) -> Path:
    example = yaml.safe_load((REPO / "sync.shops.example.yaml").read_text(encoding="utf-8"))
    template = example["shops"][0]
    entries = []
    for number in range(shops):
        name = f"shop{number:03d}"
        entry = yaml.safe_load(yaml.safe_dump(template))
        entry["name"] = name
        entry["woocommerce"]["shop_url"] = f"https://{name}.example.nl"
        entry["exact"]["division"] = 1_000_000 + number
        entry["credentials"] = {
            "woo_consumer_key": f"{name.upper()}_WOO_CONSUMER_KEY",
            "woo_consumer_secret": f"{name.upper()}_WOO_CONSUMER_SECRET",
        }
        entries.append(entry)
    path = directory / f"sync.{shops}.yaml"
    path.write_text(yaml.safe_dump({"shops": entries}), encoding="utf-8")
    return path


def measure(config: Path) -> dict[str, float]:
    finished = subprocess.run(
        [sys.executable, "-c", MEASURE],
        cwd=REPO,
        env={**os.environ, "WOO_EXACT_CONFIG": str(config)},
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(finished.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, nargs="+", default=[1, 10, 50])
    counts = parser.parse_args().shops
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        for shops in counts:
            measured = measure(agency_file(shops, Path(directory)))
            for name, value in measured.items():
                figures[f"{shops}_shops_{name}"] = value
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
