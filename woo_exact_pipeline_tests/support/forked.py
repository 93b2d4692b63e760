"""Commands in processes of their own, without paying for Python's imports each time.

A test that runs `woo-exact` or kills the pipeline mid-run needs a real process: its own pid,
environment, exit code and death. Starting Python and importing Dagster and the pipeline costs
about 2.5 s of CPU per process, and the suite starts some sixty. So a fork server (Python's
multiprocessing "forkserver": a single-threaded process started once per test worker) imports
them once, and each command's process is forked from it: a real process, started in
milliseconds, with the environment, working directory, arguments and output files it is given.

This is equivalent to a fresh process because importing the package reads no configuration and
no environment (test_imports_read_nothing.py): what the fork server imported under the test
worker's environment is what a fresh process would have imported under the command's.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO

#: What the fork server imports once (the slow part of every command's start).
PRELOADED = [
    "dagster",
    "woo_exact_pipeline.cli",
    "woo_exact_pipeline.cli_environments",
    "woo_exact_pipeline.in_process",
    "woo_exact_pipeline.sync",
    "woo_exact_pipeline.doctor",
    "woo_exact_pipeline_tests.support.chaos_pipeline",
]

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOADED)


def _run(
    entry: str,
    argv: list[str],
    environment: dict[str, str],
    cwd: str,
    stdout: Connection | str,
    stderr: str,
) -> None:
    """In the forked process: become the command, then run its entry point."""
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(cwd)
    out = stdout.fileno() if isinstance(stdout, Connection) else _append(stdout)
    os.dup2(out, 1)
    os.dup2(_append(stderr), 2)
    sys.argv = argv
    module, function = entry.split(":")
    sys.exit(getattr(importlib.import_module(module), function)())


def _append(path: str) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)


class ForkedProcess:
    """A command's process, with what the tests use of `subprocess.Popen`. Its standard output
    is a pipe (`stdout`) unless `stdout_file` is given; standard error goes to `stderr_file`."""

    def __init__(
        self,
        entry: str,
        argv: list[str],
        *,
        environment: dict[str, str],
        cwd: Path | str,
        stderr_file: Path,
        stdout_file: Path | None = None,
    ) -> None:
        self.stdout: IO[str] | None = None
        writer: Connection | None = None
        if stdout_file is None:
            reader, writer = _CONTEXT.Pipe(duplex=False)
            self.stdout = os.fdopen(os.dup(reader.fileno()), encoding="utf-8")
            reader.close()
        self._process = _CONTEXT.Process(
            target=_run,
            args=(entry, argv, environment, str(cwd), writer or str(stdout_file), str(stderr_file)),
        )
        self._process.start()
        if writer is not None:
            writer.close()  # the child holds the only writing end: its exit is our EOF
        assert self._process.pid is not None
        self.pid: int = self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(str(self._process.name), timeout or 0)
        return self._process.exitcode

    def kill(self) -> None:
        self._process.kill()

    def communicate(self, timeout: float | None = None) -> tuple[str, None]:
        """Waits for the end and returns the rest of standard output. The commands run this
        way print a few lines only, far less than a pipe holds, so waiting first is safe."""
        self.wait(timeout)
        rest = self.stdout.read() if self.stdout is not None else ""
        if self.stdout is not None:
            self.stdout.close()
        return rest, None


def run_command(
    argv: list[str], *, environment: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`woo-exact ARGS...` as `subprocess.run(..., capture_output=True, text=True)` runs it."""
    with tempfile.TemporaryDirectory(prefix="woo-exact-") as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        process = ForkedProcess(
            "woo_exact_pipeline.cli:main",
            ["woo-exact", *argv],
            environment=environment,
            cwd=os.getcwd(),
            stdout_file=out,
            stderr_file=err,
        )
        try:
            returncode = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        return subprocess.CompletedProcess(
            ["woo-exact", *argv],
            returncode,
            out.read_text(encoding="utf-8") if out.exists() else "",
            err.read_text(encoding="utf-8") if err.exists() else "",
        )
