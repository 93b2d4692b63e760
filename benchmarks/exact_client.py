"""Cost of the Exact client's gate per call, and calls spent reading reference data.

Every call first checks the endpoint's error budget, reserves a unit of the shared minute and
day windows and afterwards records the announced limits, all in the sync database. Exact allows
60 calls a minute, so that gate may cost milliseconds without limiting anything; this measures
how many. Prints one JSON line: milliseconds per GET through the client and with bare httpx
against the local sandbox (raised limits), their difference, and the calls spent on journals,
VAT codes, GL accounts, items and debtors.

    .venv/bin/python benchmarks/exact_client.py                       # SQLite in a temp dir
    .venv/bin/python benchmarks/exact_client.py --database postgresql://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import Engine, delete

from woo_exact_pipeline.config import ExactSecrets, ExactSettings, Secret
from woo_exact_pipeline.exact import reference
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.sandbox.exact import start_exact_sandbox
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.schema import exact_api_errors, exact_rate_limits, exact_tokens
from woo_exact_pipeline.store.tokens import ExactTokens, TokenStore


def forget_sandbox_app(engine: Engine, client_id: str) -> None:
    """Remove the sandbox app's rows only: the database may be shared with other work."""
    with engine.begin() as connection:
        for table in (exact_tokens, exact_rate_limits, exact_api_errors):
            connection.execute(delete(table).where(table.c.client_id == client_id))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--database", default=None, help="sync database URL (default: SQLite)")
    options = parser.parse_args()

    secret_key = Fernet.generate_key().decode()
    sandbox = start_exact_sandbox(minute_limit=1_000_000, daily_limit=1_000_000)
    with tempfile.TemporaryDirectory() as folder:
        url = options.database or f"sqlite:///{Path(folder) / 'sync.db'}"
        engine = open_sync_database(url)
        forget_sandbox_app(engine, sandbox.client_id)
        issued = sandbox.issue_tokens_for_tests()
        now = sandbox.clock.now()
        TokenStore(engine, sandbox.client_id, sandbox.division, secret_key).save(
            ExactTokens(
                access_token=issued["access_token"],
                refresh_token=issued["refresh_token"],
                access_expires_at=now + timedelta(seconds=int(issued["expires_in"])),
                issued_at=now,
            )
        )
        settings = ExactSettings.model_validate(
            {
                "base_url": sandbox.base_url,
                "redirect_uri": sandbox.redirect_uri,
                "division": sandbox.division,
                "vat_mapping": {"domestic": {21: "2"}},
                "gl_mapping": {"domestic": {21: "8000"}},
                "eu_consumer_vat_regime": "shop_country_vat",
                "rounding_gl": "8900",
            }
        )
        secrets = ExactSecrets(
            Secret("EXACT_CLIENT_ID", sandbox.client_id),
            Secret("EXACT_CLIENT_SECRET", sandbox.client_secret),
            Secret("WOO_EXACT_SECRET_KEY", secret_key),
        )
        with ExactClient.from_settings(settings, engine, secrets=secrets) as client:
            client.get("financial/Journals", select=["Code"])  # warm up the connection
            started = time.perf_counter()
            for _ in range(options.calls):
                client.get("financial/Journals", select=["Code"])
            client_ms = (time.perf_counter() - started) * 1000 / options.calls

            headers = {
                "Authorization": f"Bearer {issued['access_token']}",
                "Accept": "application/json",
            }
            with httpx.Client(headers=headers) as bare:
                bare_url = f"{sandbox.api_url}/financial/Journals?$select=Code"
                bare.get(bare_url)
                started = time.perf_counter()
                for _ in range(options.calls):
                    bare.get(bare_url).raise_for_status()
                bare_ms = (time.perf_counter() - started) * 1000 / options.calls

            before = client.calls_made
            reference.journals(client)
            reference.vat_codes(client)
            reference.gl_accounts(client)
            reference.items(client)
            reference.debtors(client)
            reference_calls = client.calls_made - before
        forget_sandbox_app(engine, sandbox.client_id)
        engine.dispose()
    sandbox.stop()
    print(
        json.dumps(
            {
                "database": engine.dialect.name,
                "calls": options.calls,
                "client_ms_per_get": round(client_ms, 2),
                "bare_httpx_ms_per_get": round(bare_ms, 2),
                "gate_overhead_ms_per_call": round(client_ms - bare_ms, 2),
                "reference_data_calls": reference_calls,
            }
        )
    )


if __name__ == "__main__":
    main()
