"""An Exact Online client we did not write, ossobv's `exactonline` (PyPI), against the Exact
sandbox, as the official WooCommerce client is run against the shop sandbox: it signs in,
refreshes, reads accounts and GL accounts, and posts and reads back a sales entry, all through
its own code (it insists on HTTPS with a verified certificate, so the sandbox serves one)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from exactonline.api import ExactApi
from exactonline.http import HTTPError
from exactonline.resource import GET
from exactonline.storage.base import ExactOnlineConfig, MissingSetting

from woo_exact_pipeline.sandbox.exact import ExactSandbox, SandboxClock, start_exact_sandbox
from woo_exact_pipeline.sandbox.woocommerce.tls import create_certificates
from woo_exact_pipeline_tests.fixtures.exact_sandbox import EXACT_TEST_START


class MemoryStorage(ExactOnlineConfig):
    """The client's settings and tokens, kept in a dict (its IniStorage writes a file)."""

    def __init__(self, values: dict[tuple[str, str], str]) -> None:
        self.values = dict(values)

    def get(self, section: str, option: str) -> str:
        try:
            return self.values[(section, option)]
        except KeyError:
            raise MissingSetting(option) from None

    def set(self, section: str, option: str, value: object) -> None:
        self.values[(section, option)] = str(value)


@pytest.fixture
def https_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ExactSandbox, SandboxClock, str]]:
    certificates = create_certificates(tmp_path)
    # The client verifies against the default trust store: here, the sandbox's own CA.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_cert))
    clock = SandboxClock(EXACT_TEST_START)
    with start_exact_sandbox(
        clock=clock,
        ssl_certfile=certificates.server_cert,
        ssl_keyfile=certificates.server_key,
    ) as sandbox:
        yield sandbox, clock, str(certificates.ca_cert)


def test_ossobv_exactonline_signs_in_refreshes_reads_and_books(
    https_sandbox: tuple[ExactSandbox, SandboxClock, str],
) -> None:
    sandbox, clock, ca_cert = https_sandbox
    storage = MemoryStorage(
        {
            ("server", "auth_url"): f"{sandbox.base_url}/api/oauth2/auth",
            ("server", "rest_url"): f"{sandbox.base_url}/api",
            ("server", "token_url"): f"{sandbox.base_url}/api/oauth2/token",
            ("application", "base_url"): sandbox.redirect_uri,
            ("application", "client_id"): sandbox.client_id,
            ("application", "client_secret"): sandbox.client_secret,
        }
    )
    api = ExactApi(storage=storage)

    # Sign in: the client's own authorize URL (consent auto-approved), then its token call.
    trust = ssl.create_default_context(cafile=ca_cert)
    consent = httpx.get(api.create_auth_request_url() + "&auto_approve=true", verify=trust)
    assert consent.status_code == 302
    [code] = parse_qs(urlsplit(consent.headers["location"]).query)["code"]
    api.request_token(code)
    first_refresh_token = storage.get_refresh_token()
    [me] = api.rest(GET("v1/current/Me?$select=CurrentDivision"))
    assert me["CurrentDivision"] == sandbox.division
    api.set_division(sandbox.division)

    # Refresh: too early is refused as Exact refuses it; after 9m45s it rotates the pair.
    with pytest.raises(HTTPError):
        api.refresh_token()
    clock.advance(seconds=585)
    api.refresh_token()
    assert storage.get_refresh_token() != first_refresh_token

    # Read: an account by its padded code, GL accounts by code.
    customer = api.relations.get(relation_code="2")
    assert customer["Code"].strip() == "2"
    ledgers = api.ledgeraccounts.filter(code__in=["8000", "8300"])
    assert sorted(ledger["Code"] for ledger in ledgers) == ["8000", "8300"]

    # Post a sales entry the way ossobv's README does, and read it back by YourRef.
    revenue = next(ledger for ledger in ledgers if ledger["Code"] == "8000")
    created = api.invoices.create(
        {
            "Journal": "70",
            "Customer": customer["ID"],
            "EntryDate": "2026-03-01T00:00:00",
            "YourRef": "WEB-9001",
            "Description": "Order WEB-9001",
            "SalesEntryLines": [
                {
                    "GLAccount": revenue["ID"],
                    "AmountFC": "41.98",
                    "VATCode": "2  ",
                    "Description": "Fietsbel",
                }
            ],
        }
    )
    assert created["EntryID"]
    booked = api.invoices.get(invoice_number="WEB-9001")
    # 41.98 at 21%: 8.8158 rounds to 8.82; the header is 50.80 including VAT.
    assert (booked["AmountFC"], booked["VATAmountFC"]) == (50.8, 8.82)
    [line] = booked["SalesEntryLines"]
    assert (line["AmountFC"], line["VATAmountFC"], line["GLAccountCode"]) == (41.98, 8.82, "8000")
