"""A whole deployment for the chaos tests: both sandboxes in the test process, the pipeline in a
child process (`chaos_pipeline.py`) that can be killed, starved of its database and rerun.

The sandboxes outlive every child, as the real shop and Exact outlive a crashed worker. The
child gets the environment `make demo` gives the pipeline (sync.yaml, secrets, DAGSTER_HOME),
all inside the test's temporary directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from sqlalchemy import Engine, select

from woo_exact_pipeline.demo import GENEROUS_LIMITS, prepare_environment
from woo_exact_pipeline.sandbox.both import Sandboxes, SandboxOptions, start_sandboxes
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.schema import accounting_events, bookings
from woo_exact_pipeline.store.tokens import ExactTokens, TokenStore
from woo_exact_pipeline_tests.support.forked import ForkedProcess

REPO = Path(__file__).resolve().parents[2]
#: The last day of every chaos shop's history and of its partitions (export_orders_until): a
#: fixed day, so the shop and the pipeline's work are the same whatever day the suite runs.
LAST_DAY = date(2026, 11, 18)

#: Failed requests are retried as often as in production, after waits of 10 ms instead of 1 s
#: and more: the tests count retries, not seconds.
QUICK_RETRIES = {
    "woocommerce": {"retry_backoff_seconds": 0.01},
    "exact": {"retry_backoff_seconds": 0.01},
}


@dataclass
class Deployment:
    sandboxes: Sandboxes
    directory: Path
    environment: dict[str, str]
    #: The token pair the sign-in stored.
    login: ExactTokens
    runs_started: int = 0

    @property
    def log_file(self) -> Path:
        """Everything the pipeline's processes wrote to stderr (Dagster's log among it)."""
        return self.directory / "pipeline.log"

    @property
    def database_url(self) -> str:
        return self.environment["WOO_EXACT_DATABASE_URL"]

    def start_pipeline(
        self, *, attempts: int = 1, resume: bool = False, database_url: str | None = None
    ) -> ForkedProcess:
        """The pipeline in a child process; its first line says it is running. Its log (stderr)
        goes to `log_file`, so a child nobody reads from never blocks on a full pipe.
        `database_url`: another way to the same sync database (e.g. through a relay)."""
        self.runs_started += 1
        environment = self.environment | (
            {"WOO_EXACT_DATABASE_URL": database_url} if database_url else {}
        )
        with self.log_file.open("a", encoding="utf-8") as log:
            log.write(f"\n=== run {self.runs_started} ===\n")
        child = self._spawn(attempts, resume, environment)
        assert child.stdout is not None
        started = child.stdout.readline()
        assert started.startswith('{"pid"'), started + self.log_file.read_text(encoding="utf-8")
        return child

    def _spawn(self, attempts: int, resume: bool, environment: dict[str, str]) -> ForkedProcess:
        return ForkedProcess(
            "woo_exact_pipeline_tests.support.chaos_pipeline:main",
            ["chaos_pipeline", f"--attempts={attempts}", *(["--resume"] if resume else [])],
            environment={**os.environ, **environment},
            cwd=REPO,
            stderr_file=self.log_file,
        )

    def run_pipeline(
        self,
        *,
        attempts: int = 1,
        resume: bool = False,
        database_url: str | None = None,
        timeout: float = 120,
    ) -> PipelineRun:
        child = self.start_pipeline(attempts=attempts, resume=resume, database_url=database_url)
        return self.finish(child, timeout=timeout)

    def finish(self, child: ForkedProcess, *, timeout: float = 120) -> PipelineRun:
        try:
            stdout, _ = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise
        lines = stdout.strip().splitlines()
        return PipelineRun(
            returncode=child.returncode, outcome=json.loads(lines[-1]) if lines else {}
        )

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        engine = open_sync_database(self.database_url)
        try:
            yield engine
        finally:
            engine.dispose()

    @contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        with dg.DagsterInstance.from_config(self.environment["DAGSTER_HOME"]) as instance:
            yield instance

    def exact_references(self) -> Counter[str]:
        """Every YourRef in the Exact administration, with how often it was booked."""
        return Counter(entry["YourRef"] for entry in self.sandboxes.exact.sales_entries())

    def ledger(self) -> dict[str, tuple[str, str | None]]:
        """Reference -> (ledger status, error) of every event the transform produced."""
        with self.engine() as engine, engine.connect() as connection:
            events = connection.execute(
                select(accounting_events.c.reference, bookings.c.status, bookings.c.error)
                .select_from(accounting_events)
                .outerjoin(
                    bookings,
                    (bookings.c.shop == accounting_events.c.shop)
                    & (bookings.c.event_key == accounting_events.c.event_key),
                )
            ).all()
        return {reference: (status, error) for reference, status, error in events}


@dataclass(frozen=True)
class PipelineRun:
    returncode: int | None
    outcome: dict[str, Any]


def assert_booked_exactly_once(deployment: Deployment) -> dict[str, tuple[str, str | None]]:
    """Every event booked once in Exact (read back by YourRef), none missing, none extra; what
    is not booked is held back for a reason Exact would refuse it for (never a lost answer)."""
    ledger = deployment.ledger()
    in_exact = deployment.exact_references()
    twice = {reference: count for reference, count in in_exact.items() if count > 1}
    assert twice == {}, f"booked more than once: {twice}"
    booked = {reference for reference, (status, _) in ledger.items() if status == "booked"}
    assert set(in_exact) == booked
    unbooked = {ref: row for ref, row in ledger.items() if row[0] != "booked"}
    assert all(status == "failed" for status, _ in unbooked.values()), unbooked
    assert all("does not book in" in (error or "") for _, error in unbooked.values()), unbooked
    return ledger


@contextmanager
def deployment(
    directory: Path,
    *,
    days: int,
    orders_per_day: int,
    database_url: str | None = None,
    shop_data: Path | None = None,
    seed: int = 42,
    settings: dict[str, Any] | None = None,
) -> Iterator[Deployment]:
    """Both sandboxes (generous Exact limits; a shop of `days` days up to LAST_DAY) and a
    signed-in pipeline environment."""
    sandboxes = start_sandboxes(
        SandboxOptions(
            days=days,
            orders_per_day=orders_per_day,
            end_date=LAST_DAY,
            seed=seed,
            shop_data=shop_data,
            **GENEROUS_LIMITS,
        )
    )
    try:
        first_day = _first_day(sandboxes)
        environment = _environment(sandboxes, directory, first_day, database_url, settings)
        login = _sign_in(sandboxes, environment)
        yield Deployment(sandboxes, directory, environment, login)
    finally:
        sandboxes.stop()


def _first_day(sandboxes: Sandboxes) -> date:
    shop = sandboxes.woocommerce.shop
    with shop.lock:
        created = [date.fromisoformat(o.created_local[:10]) for o in shop.orders.values()]
    return min(created, default=LAST_DAY)


def _environment(
    sandboxes: Sandboxes,
    directory: Path,
    first_day: date,
    database_url: str | None,
    settings: dict[str, Any] | None,
) -> dict[str, str]:
    cwd = Path.cwd()
    os.chdir(REPO)  # prepare_environment reads sync.example.yaml and dagster.yaml from here
    try:
        environment = prepare_environment(
            sandboxes.describe(), directory / "pipeline", first_day, LAST_DAY
        )
    finally:
        os.chdir(cwd)
    config = Path(environment["WOO_EXACT_CONFIG"])
    written = yaml.safe_load(config.read_text(encoding="utf-8"))
    for changes in (QUICK_RETRIES, settings or {}):
        for section, values in changes.items():
            written[section] |= values
    config.write_text(yaml.safe_dump(written, sort_keys=False), encoding="utf-8")
    home = directory / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text(encoding="utf-8"))
    environment["DAGSTER_HOME"] = str(home)
    if database_url is not None:
        environment["WOO_EXACT_DATABASE_URL"] = database_url
    return environment


def _sign_in(sandboxes: Sandboxes, environment: dict[str, str]) -> ExactTokens:
    """The real code flow (auto-approved consent), stored as `woo-exact exact login` does."""
    exact = sandboxes.exact
    issued = exact.issue_tokens_for_tests()
    now = exact.clock.now()
    tokens = ExactTokens(
        access_token=issued["access_token"],
        refresh_token=issued["refresh_token"],
        access_expires_at=now + timedelta(seconds=int(issued["expires_in"])),
        issued_at=now,
    )
    engine = open_sync_database(environment["WOO_EXACT_DATABASE_URL"])
    try:
        TokenStore(
            engine, exact.client_id, exact.division, environment["WOO_EXACT_SECRET_KEY"]
        ).save(tokens)
    finally:
        engine.dispose()
    return tokens


class TcpProxy:
    """A TCP relay to `upstream` on a port of its own, whose plug can be pulled: `cut()` closes
    every connection and refuses new ones, as a database server gone away; `restore()` serves
    again on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port = self._listen(0)

    def _listen(self, port: int) -> int:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(32)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        bound: int = listener.getsockname()[1]
        return bound

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        assert self._listener is not None
        # close() alone does not wake an accept() blocked in another thread on Linux: the
        # listener would go on accepting. shutdown() does.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def restore(self) -> None:
        self._listen(self.port)
