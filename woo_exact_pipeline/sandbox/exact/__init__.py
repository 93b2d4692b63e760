"""A local stand-in for Exact Online's REST API v1, with a seeded Dutch administration.

`start_exact_sandbox()` serves it on 127.0.0.1; `woo-exact sandbox` and the pytest fixtures
use it. Defaults below are what a demo configuration points at.

The seeded administration (`administration_nl.json`, replaceable by a file of the same shape):
division 3102026 "Fietsenwinkel De Spaak B.V."; journals 70 Verkoopboek and 71 Verkoopboek
kassa (sales), 10, 20, 60, 90; G/L 1300 debtors, 1500/1510/1520 VAT payable (high and zero,
low, OSS), 8000 revenue high, 8010 low, 8020 zero rate, 8100 EU B2B, 8110 OSS, 8200 export,
8300 shipping, 8310 fees, 8400 discounts, 8500 POS, 8900 rounding; VAT codes 0 none, 1 low 9%,
2 high 21%, 4 zero rate, 6 export, 7 EU goods reverse charge, 8 EU services reverse charge,
and OSS codes `<country><H|L|M|S>` (standard, then reduced rates high to low, e.g. BEH 21%,
BEL 12%, BEM 6%) for the 26 other EU countries; debtors 1 POS, 2 webshop default, 3 a Belgian
business, 5 a club (4 is a supplier, not a customer); items WEBSHOP, VERZENDKOSTEN,
BETAALKOSTEN, KORTING, FIETSBEL-01, BAND-28-GRS, FIETSKAART-NL (low rate) and OUD-ARTIKEL (not
a sales item); financial years 2020-2035 of twelve monthly periods, none closed
(`financial_years.closed_periods` in the file, or `ExactSandbox.close_period`); invoice numbers
at printing (division `InvoiceNumbering: at_entry` numbers them when entered). GUIDs are
stable: `ExactSandbox.seeded_id(kind, code)`.

The entity model follows Exact's reference pages (`reference_model.json`, tested against it).
"""

from __future__ import annotations

import copy
import ssl
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from woo_exact_pipeline.sandbox.exact.app import ExactApp
from woo_exact_pipeline.sandbox.exact.clock import SandboxClock
from woo_exact_pipeline.sandbox.exact.division import (
    DEFAULT_ATTACHMENT_LIMIT,
    Division,
    OutgoingEmail,
    load_administration,
)
from woo_exact_pipeline.sandbox.exact.faults import DropMode, Faults
from woo_exact_pipeline.sandbox.exact.ids import seeded_id
from woo_exact_pipeline.sandbox.exact.oauth import OAuthServer
from woo_exact_pipeline.sandbox.exact.ratelimit import ErrorBudget, RateLimiter
from woo_exact_pipeline.sandbox.server import BackgroundServer

# The app registration a demo uses; Exact issues client ids as GUIDs.
DEFAULT_CLIENT_ID = "8f2b6c1e-4d7a-4e39-b1c5-0a9e3f6d2b74"
DEFAULT_CLIENT_SECRET = "sandbox-exact-client-secret"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/exact/oauth/callback"
# The Exact user who signs in on the consent page.
SANDBOX_USERNAME = "boekhouder@despaak.example"
SANDBOX_PASSWORD = "sandbox"
SANDBOX_USER_FULL_NAME = "Sanne de Boekhouder"

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REDIRECT_URI",
    "SANDBOX_PASSWORD",
    "SANDBOX_USERNAME",
    "DropMode",
    "ExactSandbox",
    "Faults",
    "OutgoingEmail",
    "SandboxClock",
    "start_exact_sandbox",
]


class ExactSandbox:
    """One running sandbox: one administration (division), one registered app."""

    def __init__(
        self,
        *,
        port: int = 0,
        administration_file: Path | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        redirect_uri: str = DEFAULT_REDIRECT_URI,
        minute_limit: int = 60,
        daily_limit: int = 5000,
        clock: SandboxClock | None = None,
        attachment_limit: int = DEFAULT_ATTACHMENT_LIMIT,
        atom_unless_json_accepted: bool = True,
        ssl_certfile: Path | None = None,
        ssl_keyfile: Path | None = None,
        host: str = "127.0.0.1",
        public_host: str | None = None,
    ) -> None:
        """`atom_unless_json_accepted`: answer requests without `Accept: application/json` in
        Atom/XML, as real Exact does (the default; the pipeline's client asks for JSON on every
        request). False answers JSON to everyone, for hand-made requests while exploring."""
        self.clock = clock or SandboxClock(ticking=True)
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.faults = Faults()
        self._division = Division(
            load_administration(administration_file), self.clock, attachment_limit=attachment_limit
        )
        self.division: int = self._division.code
        self.limiter = RateLimiter(self.clock, minute_limit=minute_limit, daily_limit=daily_limit)
        self.user = {
            "UserID": seeded_id("user", SANDBOX_USERNAME),
            "UserName": SANDBOX_USERNAME,
            "FullName": SANDBOX_USER_FULL_NAME,
            "Email": SANDBOX_USERNAME,
            "LanguageCode": "en-NL",
            "DivisionCustomer": seeded_id(f"{self.division}:account", "1"),
        }
        self._app = ExactApp(
            division=self._division,
            oauth=OAuthServer(
                self.clock,
                client_id=client_id,
                client_secret=client_secret,
                redirect_uri=redirect_uri,
            ),
            limiter=self.limiter,
            error_budget=ErrorBudget(self.clock),
            faults=self.faults,
            user=self.user,
            password=SANDBOX_PASSWORD,
            atom_unless_json_accepted=atom_unless_json_accepted,
        )
        # Real Exact is HTTPS only; with a certificate the sandbox serves HTTPS too.
        self._server = BackgroundServer(
            self._app,
            host=host,
            port=port,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            public_host=public_host,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ExactSandbox:
        self.faults.released.clear()
        self._server.start()
        self._app.base_url = self.base_url
        self._division.base_url = self.base_url
        return self

    def stop(self) -> None:
        self.faults.released.set()  # let hanging requests go so the server can shut down
        self._server.stop()

    def __enter__(self) -> ExactSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._server.url

    @property
    def api_url(self) -> str:
        """The REST root of the administration: `{base_url}/api/v1/{division}`."""
        return f"{self.base_url}/api/v1/{self.division}"

    def describe(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uri": self.redirect_uri,
            "division": self.division,
        }

    def summary(self) -> str:
        return (
            f"Exact Online sandbox at {self.base_url}: division {self.division} "
            f"({self._division.facts.get('Description')}), sales journal 70, "
            f"sign in as {SANDBOX_USERNAME} / {SANDBOX_PASSWORD}; "
            f"overview of what was booked at {self.base_url}/"
        )

    # -- for tests ---------------------------------------------------------------------------

    def authorize_url(self, state: str = "sandbox", *, auto_approve: bool = False) -> str:
        params = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "state": state,
            **({"auto_approve": "true"} if auto_approve else {}),
        }
        return f"{self.base_url}/api/oauth2/auth?{urlencode(params)}"

    def issue_tokens_for_tests(self, *, verify: bool | ssl.SSLContext = True) -> dict[str, str]:
        """Access and refresh token through the real code flow over HTTP (auto-approved).

        `verify`: a context trusting the CA when the sandbox serves HTTPS with its own certificate.
        """
        with httpx.Client(timeout=10, verify=verify) as http:
            consent = http.get(self.authorize_url("tests", auto_approve=True))
            if consent.status_code != 302:
                raise RuntimeError(f"consent was not granted: {consent.status_code}")
            location = consent.headers["location"]
            code = parse_qs(urlsplit(location).query)["code"][0]
            answer = http.post(
                f"{self.base_url}/api/oauth2/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.redirect_uri,
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                },
            )
            answer.raise_for_status()
            tokens: dict[str, str] = answer.json()
            return tokens

    def preload_sales_entries(self, bodies: Iterable[Mapping[str, Any]]) -> int:
        """Book entries without HTTP (same validation as a POST), e.g. to fill a large demo."""
        booked = 0
        for body in bodies:
            self._division.create_sales_entry(dict(body))
            booked += 1
        return booked

    def close_period(self, year: int, period: int, journal: str | None = None) -> None:
        """Close a period for one journal (all when None), as a bookkeeper does in Exact."""
        with self._division.lock:
            self._division.calendar.close(year, period, journal)

    def reopen_period(self, year: int, period: int, journal: str | None = None) -> None:
        with self._division.lock:
            self._division.calendar.reopen(year, period, journal)

    def seeded_id(self, kind: str, code: str) -> str:
        """The GUID of seeded master data: kind is gl, journal, vat, itemgroup, item, account."""
        return seeded_id(f"{self.division}:{kind}", code)

    def booked(self, entity_set: str) -> list[dict[str, Any]]:
        """Copies of what is stored, e.g. `booked("salesentry/SalesEntries")`, for assertions."""
        with self._division.lock:
            return copy.deepcopy(self._division.stores[entity_set].records)

    def sales_entries(self, your_ref: str | None = None) -> list[dict[str, Any]]:
        entries = self.booked("salesentry/SalesEntries")
        return [e for e in entries if your_ref is None or e.get("YourRef") == your_ref]

    def sales_invoices(self, your_ref: str | None = None) -> list[dict[str, Any]]:
        invoices = self.booked("salesinvoice/SalesInvoices")
        return [i for i in invoices if your_ref is None or i.get("YourRef") == your_ref]

    def outbox(self) -> list[OutgoingEmail]:
        with self._division.lock:
            return list(self._division.outbox)

    def today(self) -> date:
        """The administration's date now (Amsterdam), as bookings without a date get it."""
        return self._division.now().date()

    def now(self) -> datetime:
        return self._division.now()


def start_exact_sandbox(
    *,
    port: int = 0,
    administration_file: Path | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    redirect_uri: str = DEFAULT_REDIRECT_URI,
    minute_limit: int = 60,
    daily_limit: int = 5000,
    clock: SandboxClock | None = None,
    attachment_limit: int = DEFAULT_ATTACHMENT_LIMIT,
    atom_unless_json_accepted: bool = True,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
    host: str = "127.0.0.1",
    public_host: str | None = None,
) -> ExactSandbox:
    """Start serving on `host` (a free port when 0); call `.stop()` when done. `public_host`:
    the name clients reach it by, when that is not `host` (a container's name)."""
    return ExactSandbox(
        port=port,
        administration_file=administration_file,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
        minute_limit=minute_limit,
        daily_limit=daily_limit,
        clock=clock,
        attachment_limit=attachment_limit,
        atom_unless_json_accepted=atom_unless_json_accepted,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        host=host,
        public_host=public_host,
    ).start()
