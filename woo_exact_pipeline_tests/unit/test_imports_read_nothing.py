"""Importing the code reads no configuration and no environment: sync.yaml is read when Dagster
loads the code location (`defs()`) or a command starts, and secrets when a resource or a command
needs them. So any module can be imported in any order, by Dagster, a test or a tool."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: Imports every module of the package with os.environ replaced by a mapping that notes each
#: read made by the package's own code (directly or through os.getenv), then prints the reads
#: and the modules that failed to import.
PROBE = r"""
import importlib, json, os, pkgutil, sys

import woo_exact_pipeline

package = os.path.dirname(woo_exact_pipeline.__file__)
real, reads = os.environ, []


class Noting(dict):
    def _note(self, key):
        frame = sys._getframe(2)
        while frame is not None and frame.f_globals.get("__name__") == "os":
            frame = frame.f_back  # os.getenv -> os.environ.get: the caller is further up
        if frame is not None and frame.f_code.co_filename.startswith(package):
            reads.append(f"{key} at {frame.f_code.co_filename[len(package) + 1:]}:{frame.f_lineno}")

    def __getitem__(self, key):
        self._note(key)
        return real[key]

    def get(self, key, default=None):
        self._note(key)
        return real.get(key, default)

    def __contains__(self, key):
        self._note(key)
        return key in real


os.environ = Noting(real)
if "--canary" in sys.argv:  # code of the package reading a variable as it is imported
    canary = os.path.join(package, "canary.py")
    exec(compile("import os\nos.getenv('WOO_EXACT_DATABASE_URL')", canary, "exec"), {})
failed = []
for module in pkgutil.walk_packages(woo_exact_pipeline.__path__, "woo_exact_pipeline."):
    try:
        importlib.import_module(module.name)
    except Exception as error:
        failed.append(f"{module.name}: {error!r}"[:300])
print(json.dumps({"reads": reads, "failed": failed}))
"""


def probe(*arguments: str) -> dict[str, list[str]]:
    finished = subprocess.run(
        [sys.executable, "-c", PROBE, *arguments],
        cwd=REPO,
        # No sync.yaml where the code would look, no secrets: an import that reads either fails.
        env={"PATH": "/usr/bin:/bin", "WOO_EXACT_CONFIG": "/nonexistent/sync.yaml"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_importing_every_module_reads_no_configuration_and_no_environment() -> None:
    assert probe() == {"reads": [], "failed": []}


def test_the_probe_notices_a_read_the_package_makes() -> None:
    assert probe("--canary")["reads"] == ["WOO_EXACT_DATABASE_URL at canary.py:2"]
