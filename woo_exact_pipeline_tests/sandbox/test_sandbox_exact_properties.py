"""Properties of the sandbox's own arithmetic, checked over HTTP with generated entries."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from woo_exact_pipeline.sandbox.exact import SandboxClock, start_exact_sandbox
from woo_exact_pipeline_tests.fixtures.exact_sandbox import EXACT_TEST_START

RATES = {
    "0": Decimal(0),
    "1": Decimal("0.09"),
    "2": Decimal("0.21"),
    "BEH": Decimal("0.21"),
    "FRS": Decimal("0.021"),
    "7": Decimal(0),
}

amounts = st.decimals(min_value=Decimal("-9999.99"), max_value=Decimal("9999.99"), places=2)
lines = st.lists(st.tuples(amounts, st.sampled_from(sorted(RATES))), min_size=1, max_size=6)


def test_vat_per_line_half_up_and_ledger_balances() -> None:
    sandbox = start_exact_sandbox(
        clock=SandboxClock(EXACT_TEST_START), minute_limit=10**6, daily_limit=10**6
    )
    token = sandbox.issue_tokens_for_tests()["access_token"]
    client = httpx.Client(
        base_url=f"{sandbox.api_url}/",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Prefer": "return=representation",
        },
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(lines=lines)
    def check(lines: list[tuple[Decimal, str]]) -> None:
        body = {
            "Journal": "70",
            "Customer": sandbox.seeded_id("account", "2"),
            "SalesEntryLines": [
                {"GLAccount": sandbox.seeded_id("gl", "8000"), "AmountFC": str(a), "VATCode": c}
                for a, c in lines
            ],
        }
        entry = client.post("salesentry/SalesEntries", json=body).json()["d"]
        expected_vat = [
            (amount * RATES[code]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            for amount, code in lines
        ]
        got_vat = [
            Decimal(str(line["VATAmountFC"]))
            for line in client.get(entry["SalesEntryLines"]["__deferred"]["uri"]).json()["d"][
                "results"
            ]
        ]
        assert got_vat == expected_vat
        total = sum((a for a, _ in lines), Decimal(0)) + sum(expected_vat, Decimal(0))
        assert Decimal(str(entry["AmountFC"])) == total
        ledger = client.get(
            "bulk/Financial/TransactionLines",
            params={"$select": "AmountDC", "$filter": f"EntryID eq guid'{entry['EntryID']}'"},
        ).json()["d"]["results"]
        assert sum(Decimal(str(line["AmountDC"])) for line in ledger) == 0

    try:
        check()
    finally:
        client.close()
        sandbox.stop()
