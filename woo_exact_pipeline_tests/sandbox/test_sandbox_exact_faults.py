"""Injected faults, above all: the booking is stored but the response never arrives."""

from __future__ import annotations

import json
import ssl
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from woo_exact_pipeline.sandbox.exact import (
    DropMode,
    ExactSandbox,
    SandboxClock,
    start_exact_sandbox,
)
from woo_exact_pipeline.sandbox.exact.division import default_administration_file
from woo_exact_pipeline.sandbox.woocommerce.tls import create_certificates
from woo_exact_pipeline_tests.fixtures.exact_sandbox import EXACT_TEST_START


def _entry(sandbox: ExactSandbox, your_ref: str) -> dict[str, Any]:
    return {
        "Journal": "70",
        "Customer": sandbox.seeded_id("account", "2"),
        "YourRef": your_ref,
        "SalesEntryLines": [{"GLAccount": sandbox.seeded_id("gl", "8000"), "AmountFC": "10"}],
    }


def _entries_with_ref(client: httpx.Client, your_ref: str) -> list[dict[str, Any]]:
    answer = client.get(
        "salesentry/SalesEntries",
        params={"$filter": f"YourRef eq '{your_ref}'", "$select": "EntryID,EntryNumber"},
    )
    results: list[dict[str, Any]] = answer.json()["d"]["results"]
    return results


def test_commit_then_reset_leaves_exactly_one_entry(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    exact_sandbox.faults.arm_commit_then_drop(1)
    with pytest.raises(httpx.TransportError):
        exact_api.post("salesentry/SalesEntries", json=_entry(exact_sandbox, "WEB-7"))
    # The client cannot know; asking by YourRef before posting again finds the booking.
    assert len(_entries_with_ref(exact_api, "WEB-7")) == 1
    assert exact_sandbox.faults.armed_drops() == 0
    # Only the armed booking was dropped: the next one answers normally.
    assert exact_api.post("salesentry/SalesEntries", json=_entry(exact_sandbox, "WEB-8")).is_success


def test_commit_then_silence_until_the_client_times_out(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    exact_sandbox.faults.arm_commit_then_drop(1, mode=DropMode.HANG)
    with pytest.raises(httpx.ReadTimeout):
        exact_api.post("salesentry/SalesEntries", json=_entry(exact_sandbox, "WEB-9"), timeout=0.3)
    assert len(_entries_with_ref(exact_api, "WEB-9")) == 1


def test_a_blind_retry_after_a_drop_books_twice(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    exact_sandbox.faults.arm_commit_then_drop(1)
    with pytest.raises(httpx.TransportError):
        exact_api.post("salesentry/SalesEntries", json=_entry(exact_sandbox, "WEB-10"))
    exact_api.post("salesentry/SalesEntries", json=_entry(exact_sandbox, "WEB-10"))
    assert len(exact_sandbox.sales_entries("WEB-10")) == 2


def _post_in_background(client: httpx.Client, body: dict[str, Any]) -> Future[httpx.Response]:
    return ThreadPoolExecutor(max_workers=1).submit(
        client.post, "salesentry/SalesEntries", json=body
    )


def test_a_held_booking_waits_before_it_is_stored_until_the_test_lets_it_go(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    exact_api.post("salesentry/SalesEntries", json=_entry(exact_sandbox, "WEB-20"))
    hold = exact_sandbox.faults.hold_booking(2)
    assert exact_api.post(
        "salesentry/SalesEntries", json=_entry(exact_sandbox, "WEB-21")
    ).is_success
    posting = _post_in_background(exact_api, _entry(exact_sandbox, "WEB-22"))
    assert hold.wait_until_reached(timeout=10)
    # Held before storing: Exact has nothing yet, and other requests are still answered.
    assert _entries_with_ref(exact_api, "WEB-22") == []
    hold.release()
    assert posting.result(timeout=10).status_code == 201
    assert len(_entries_with_ref(exact_api, "WEB-22")) == 1


def test_a_held_booking_released_unstored_never_reaches_exact(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    hold = exact_sandbox.faults.hold_booking()
    posting = _post_in_background(exact_api, _entry(exact_sandbox, "WEB-23"))
    assert hold.wait_until_reached(timeout=10)
    hold.release(go_on=False)
    with pytest.raises(httpx.TransportError):
        posting.result(timeout=10)
    assert _entries_with_ref(exact_api, "WEB-23") == []


def test_a_booking_held_after_storing_is_in_exact_before_its_answer(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    hold = exact_sandbox.faults.hold_booking(after_store=True)
    posting = _post_in_background(exact_api, _entry(exact_sandbox, "WEB-24"))
    assert hold.wait_until_reached(timeout=10)
    assert len(_entries_with_ref(exact_api, "WEB-24")) == 1
    assert not posting.done()
    hold.release()
    assert posting.result(timeout=10).status_code == 201


def test_printing_an_invoice_can_be_dropped_after_processing(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    invoice = exact_api.post(
        "salesinvoice/SalesInvoices",
        json={
            "Journal": "70",
            "OrderedBy": exact_sandbox.seeded_id("account", "2"),
            "SalesInvoiceLines": [
                {"Item": exact_sandbox.seeded_id("item", "WEBSHOP"), "UnitPrice": 5}
            ],
        },
    ).json()["d"]
    exact_sandbox.faults.arm_commit_then_drop(1)
    with pytest.raises(httpx.TransportError):
        exact_api.post(
            "salesinvoice/PrintedSalesInvoices", json={"InvoiceID": invoice["InvoiceID"]}
        )
    assert exact_sandbox.sales_invoices()[0]["Status"] == 50


def test_reads_are_never_dropped(exact_sandbox: ExactSandbox, exact_api: httpx.Client) -> None:
    exact_sandbox.faults.arm_commit_then_drop(1)
    assert exact_api.get("financial/Journals").status_code == 200
    assert exact_sandbox.faults.armed_drops() == 1


def test_server_error_share(exact_sandbox: ExactSandbox, exact_api: httpx.Client) -> None:
    exact_sandbox.faults.server_error_rate = 1.0
    answer = exact_api.post("salesentry/SalesEntries", json=_entry(exact_sandbox, "WEB-11"))
    assert answer.status_code == 503
    assert exact_sandbox.sales_entries() == []  # an injected 5xx happens before booking
    exact_sandbox.faults.server_error_statuses = (500, 502)
    statuses = {exact_api.get("financial/Journals").status_code for _ in range(20)}
    assert statuses <= {500, 502} and statuses
    exact_sandbox.faults.clear()
    assert exact_api.get("financial/Journals").status_code == 200


def test_hang_past_the_client_timeout(exact_sandbox: ExactSandbox, exact_api: httpx.Client) -> None:
    exact_sandbox.faults.hang_rate = 1.0
    with pytest.raises(httpx.ReadTimeout):
        exact_api.get("financial/Journals", timeout=0.2)
    exact_sandbox.faults.hang_rate = 0.0
    assert exact_api.get("financial/Journals").status_code == 200


def test_latency(exact_sandbox: ExactSandbox, exact_api: httpx.Client) -> None:
    exact_sandbox.faults.latency_seconds = 0.15
    exact_sandbox.faults.latency_rate = 1.0
    started = time.monotonic()
    assert exact_api.get("financial/Journals").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_stopping_releases_a_hanging_request(exact_clock: SandboxClock) -> None:
    sandbox = start_exact_sandbox(clock=exact_clock)
    token = sandbox.issue_tokens_for_tests()["access_token"]
    sandbox.faults.hang_rate = 1.0
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(
            f"{sandbox.api_url}/financial/Journals",
            headers={"Authorization": f"Bearer {token}"},
            timeout=0.2,
        )
    started = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - started < 5


def test_overview_page_lists_what_was_booked(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    exact_api.post("salesentry/SalesEntries", json=_entry(exact_sandbox, "WEB-OVERVIEW"))
    page = httpx.get(exact_sandbox.base_url + "/")
    assert page.status_code == 200
    assert "WEB-OVERVIEW" in page.text
    assert "Fietsenwinkel De Spaak" in page.text and "Kassaverkopen (POS)" in page.text


def test_another_administration_from_a_json_file(tmp_path: Path) -> None:
    administration = json.loads(default_administration_file().read_text(encoding="utf-8"))
    administration["division"] = {**administration["division"], "Code": 777, "Description": "B"}
    path = tmp_path / "administration.json"
    path.write_text(json.dumps(administration), encoding="utf-8")
    with start_exact_sandbox(
        administration_file=path, clock=SandboxClock(EXACT_TEST_START)
    ) as sandbox:
        assert sandbox.division == 777
        assert sandbox.describe()["division"] == 777
        token = sandbox.issue_tokens_for_tests()["access_token"]
        me = httpx.get(
            f"{sandbox.base_url}/api/v1/current/Me",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        assert me.json()["d"]["results"][0]["CurrentDivision"] == 777


def test_serves_https_with_a_certificate(tmp_path: Path, exact_clock: SandboxClock) -> None:
    certificates = create_certificates(tmp_path)
    with start_exact_sandbox(
        clock=exact_clock,
        ssl_certfile=certificates.server_cert,
        ssl_keyfile=certificates.server_key,
    ) as sandbox:
        assert sandbox.base_url.startswith("https://127.0.0.1:")
        trust = ssl.create_default_context(cafile=certificates.ca_cert)
        tokens = sandbox.issue_tokens_for_tests(verify=trust)
        journals = httpx.get(
            f"{sandbox.api_url}/financial/Journals",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
            verify=trust,
        )
        assert journals.status_code == 200


def test_describe_gives_what_the_cli_prints(exact_sandbox: ExactSandbox) -> None:
    described = exact_sandbox.describe()
    assert set(described) == {"base_url", "client_id", "client_secret", "redirect_uri", "division"}
    assert described["base_url"].startswith("http://127.0.0.1:")
    assert str(exact_sandbox.division) in exact_sandbox.summary()
