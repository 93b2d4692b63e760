"""The Starlette app: OAuth2, `current/Me`, the division API and the overview page.

Every division call goes through the same gate, in Exact's order as far as it is known:
bearer token, error-budget block, rate limit, injected faults, then the endpoint itself.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from woo_exact_pipeline.sandbox.exact import atom, model, pages, xml_upload
from woo_exact_pipeline.sandbox.exact.division import Division
from woo_exact_pipeline.sandbox.exact.errors import ExactError, ODataError, not_found, stream_error
from woo_exact_pipeline.sandbox.exact.faults import DropMode, Faults
from woo_exact_pipeline.sandbox.exact.model import EntityType, Record
from woo_exact_pipeline.sandbox.exact.oauth import OAuthServer, TokenError
from woo_exact_pipeline.sandbox.exact.odata import parse_guid
from woo_exact_pipeline.sandbox.exact.query import (
    BULK_PAGE_SIZE,
    REGULAR_PAGE_SIZE,
    next_url,
    parse_options,
    run_query,
    serialize,
)
from woo_exact_pipeline.sandbox.exact.ratelimit import ErrorBudget, RateLimiter

_ACCOUNT_FILTER_FIELDS = (
    "Blocked",
    "ChamberOfCommerce",
    "City",
    "Code",
    "Country",
    "Created",
    "Email",
    "ID",
    "IsSales",
    "IsSupplier",
    "Modified",
    "Name",
    "Postcode",
    "SearchCode",
    "Status",
    "Type",
    "VATNumber",
)
_ITEM_FILTER_FIELDS = (
    "Barcode",
    "Code",
    "Created",
    "Description",
    "ID",
    "IsSalesItem",
    "IsStockItem",
    "ItemGroup",
    "Modified",
)


@dataclass(frozen=True)
class Endpoint:
    path: str
    source: str  # a store or line store of the division, or "divisions" / "transactions"
    create: str | None = None  # the Division method that handles POST
    booking: bool = False  # its POST books something: subject to commit-then-drop
    bulk: bool = False
    # "Most READ services don't have such limitations" (Exact «REST API - Restrictions»): the
    # 60-record page is for CRUD endpoints; a read endpoint answers in one page.
    read_service: bool = False
    mandatory_filter: tuple[str, ...] = ()
    lines_set: str | None = None


ENDPOINTS = {
    endpoint.path.lower(): endpoint
    for endpoint in (
        Endpoint("system/Divisions", "divisions"),
        Endpoint("financial/Journals", "financial/Journals"),
        Endpoint("financial/GLAccounts", "financial/GLAccounts"),
        Endpoint("financial/FinancialPeriods", "financial/FinancialPeriods"),
        Endpoint("read/financial/JournalStatusList", "journal_statuses", read_service=True),
        Endpoint("vat/VATCodes", "vat/VATCodes"),
        Endpoint("general/Currencies", "general/Currencies"),
        Endpoint("financial/ExchangeRates", "financial/ExchangeRates"),
        Endpoint(
            "crm/Accounts",
            "crm/Accounts",
            "create_account",
            mandatory_filter=_ACCOUNT_FILTER_FIELDS,
        ),
        Endpoint(
            "logistics/Items",
            "logistics/Items",
            "create_item",
            mandatory_filter=_ITEM_FILTER_FIELDS,
        ),
        Endpoint("logistics/ItemGroups", "logistics/ItemGroups"),
        Endpoint("inventory/Warehouses", "inventory/Warehouses"),
        Endpoint(
            "salesentry/SalesEntries",
            "salesentry/SalesEntries",
            "create_sales_entry",
            booking=True,
            lines_set="salesentry/SalesEntryLines",
        ),
        Endpoint("salesentry/SalesEntryLines", "salesentry/SalesEntryLines"),
        Endpoint(
            "salesinvoice/SalesInvoices",
            "salesinvoice/SalesInvoices",
            "create_sales_invoice",
            booking=True,
            lines_set="salesinvoice/SalesInvoiceLines",
        ),
        Endpoint("salesinvoice/SalesInvoiceLines", "salesinvoice/SalesInvoiceLines"),
        Endpoint(
            "salesinvoice/PrintedSalesInvoices", "printed", "print_sales_invoice", booking=True
        ),
        Endpoint(
            "salesorder/SalesOrders",
            "salesorder/SalesOrders",
            "create_sales_order",
            booking=True,
            lines_set="salesorder/SalesOrderLines",
        ),
        Endpoint("salesorder/SalesOrderLines", "salesorder/SalesOrderLines"),
        Endpoint("documents/Documents", "documents/Documents", "create_document"),
        Endpoint(
            "documents/DocumentAttachments", "documents/DocumentAttachments", "create_attachment"
        ),
        # «API limits»: "Mandatory filtering on single and bulk endpoints where sync APIs are
        # available"; both have sync counterparts. Exact's field lists are those of the regular
        # endpoints (picqer #591); whether Exact enforces it on bulk yet is unverified.
        Endpoint(
            "bulk/CRM/Accounts",
            "crm/Accounts",
            bulk=True,
            mandatory_filter=_ACCOUNT_FILTER_FIELDS,
        ),
        Endpoint(
            "bulk/Logistics/Items",
            "logistics/Items",
            bulk=True,
            mandatory_filter=_ITEM_FILTER_FIELDS,
        ),
        Endpoint("bulk/Financial/GLAccounts", "financial/GLAccounts", bulk=True),
        Endpoint("bulk/Financial/TransactionLines", "transactions", bulk=True),
    )
}

READ_SERVICE_PAGE_SIZE = 1_000_000
_PATH = re.compile(r"^(?P<set>[A-Za-z/]+?)(?:\((?P<key>[^)]*)\)(?:/(?P<nav>\w+))?)?$")

# uvicorn's own `send`, so a commit-then-drop fault can close the connection under Starlette.
_RAW_SEND: ContextVar[Any] = ContextVar("exact_sandbox_raw_send", default=None)


class _DivisionsSource:
    entity_type = model.SYSTEM_DIVISION

    def __init__(self, division: Division) -> None:
        self._division = division

    def get(self, key: Any) -> Record | None:
        return self._division.division_record() if key == self._division.code else None

    def scan(self, after_key: Any | None, equalities: Mapping[str, Any]) -> Iterator[Record]:
        return iter([] if after_key is not None else [self._division.division_record()])


class _TransactionLinesSource:
    entity_type = model.TRANSACTION_LINE

    def __init__(self, division: Division) -> None:
        self._division = division

    def get(self, key: Any) -> Record | None:
        return self._division.find_transaction_line(key)

    def scan(self, after_key: Any | None, equalities: Mapping[str, Any]) -> Iterator[Record]:
        return self._division.transaction_lines(after_key, equalities)


class _JournalStatusSource:
    entity_type = model.JOURNAL_STATUS

    def __init__(self, division: Division) -> None:
        self._division = division

    def get(self, key: Any) -> Record | None:
        return None  # its key is (Journal, Year, Period): read it with a $filter

    def scan(self, after_key: Any | None, equalities: Mapping[str, Any]) -> Iterator[Record]:
        # A read service answers in one page, so there is never a page to continue after.
        return iter([] if after_key is not None else list(self._division.journal_statuses()))


async def _wait_for_disconnect(receive: Receive, faults: Faults) -> None:
    """Hold the request until the client hangs up (or the sandbox stops, or the limit)."""
    deadline = time.monotonic() + faults.hang_limit_seconds
    while time.monotonic() < deadline and not faults.released.is_set():
        try:
            message = await asyncio.wait_for(receive(), timeout=0.1)
        except TimeoutError:
            continue
        if message["type"] == "http.disconnect":
            return


class DroppedResponse(Response):
    """The client never learns what became of its request (reset or silence)."""

    def __init__(self, mode: DropMode, faults: Faults) -> None:
        super().__init__(status_code=201)
        self.mode = mode
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.mode is DropMode.HANG:
            await _wait_for_disconnect(receive, self.faults)
            return
        raw_send = _RAW_SEND.get()
        transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
        if transport is not None:
            transport.close()  # no status line at all: the client sees the connection die
            await _wait_for_disconnect(receive, self.faults)
            return
        # Another server than uvicorn: start a response and never finish it.
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-length", b"1024")],
            }
        )


def _error_response(error: ExactError) -> JSONResponse:
    return JSONResponse(error.envelope(), status_code=error.status, headers=error.headers)


class ExactApp:
    """ASGI entry point; keeps uvicorn's `send` reachable for the connection-drop fault."""

    def __init__(
        self,
        *,
        division: Division,
        oauth: OAuthServer,
        limiter: RateLimiter,
        error_budget: ErrorBudget,
        faults: Faults,
        user: Mapping[str, Any],
        password: str,
        atom_unless_json_accepted: bool,
    ) -> None:
        self.division = division
        self.oauth = oauth
        self.limiter = limiter
        self.error_budget = error_budget
        self.faults = faults
        self.user = dict(user)
        self.password = password
        self.atom_unless_json_accepted = atom_unless_json_accepted
        self.base_url = ""
        self._starlette = Starlette(
            routes=[
                Route("/", self.overview),
                Route("/api/oauth2/auth", self.authorize, methods=["GET", "POST"]),
                Route("/api/oauth2/token", self.token, methods=["POST"]),
                Route("/api/v1/current/Me", self.me),
                Route("/api/v1/$batch", self.batch, methods=["POST"]),
                Route(
                    "/api/v1/{division:int}/{path:path}",
                    self.division_api,
                    methods=["GET", "POST", "PUT", "DELETE"],
                ),
                Route("/docs/SysAttachment.aspx", self.download),
                Route("/docs/XMLUpload.aspx", self.xml_upload, methods=["POST"]),
                Route("/docs/{page}", self.document),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _RAW_SEND.set(send)
        try:
            await self._starlette(scope, receive, send)
        finally:
            _RAW_SEND.reset(token)

    # -- pages and OAuth2 --------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        return HTMLResponse(pages.overview_page(self.division))

    async def document(self, request: Request) -> Response:
        page = pages.document_page(self.division, request.path_params["page"], request.query_params)
        if page is None:
            return HTMLResponse(pages.error_page("No such document."), status_code=404)
        return HTMLResponse(page)

    async def authorize(self, request: Request) -> Response:
        params: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            params.update(await _form(request))
        problem = self.oauth.check_authorize_request(params)
        if problem is not None:
            # Never redirect to an unverified redirect_uri: show the error instead.
            return HTMLResponse(pages.error_page(problem), status_code=400)
        approved = params.get("auto_approve") == "true"  # sandbox-only shortcut
        if request.method == "POST":
            approved = (
                params.get("username") == self.user["UserName"]
                and params.get("password") == self.password
            )
            if not approved:
                page = pages.consent_page(params, "Invalid user name or password.")
                return HTMLResponse(page, status_code=401)
        if not approved:
            return HTMLResponse(pages.consent_page(params))
        code = self.oauth.issue_code(params["redirect_uri"])
        answer = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        separator = "&" if "?" in params["redirect_uri"] else "?"
        return RedirectResponse(f"{params['redirect_uri']}{separator}{urlencode(answer)}", 302)

    async def token(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        form = await _form(request)
        try:
            tokens = self.oauth.exchange(form)
        except TokenError as error:
            headers = {"Reason": error.reason} if error.reason else {}
            return JSONResponse(error.body(), status_code=error.status, headers=headers)
        return JSONResponse(tokens, headers={"Cache-Control": "no-store"})

    def _client(self, request: Request) -> tuple[str | None, bool]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None, False
        return self.oauth.client_for(token.strip())

    # -- API ---------------------------------------------------------------------------------

    async def me(self, request: Request) -> Response:
        # current/Me has no division in its URL, so it is not rate limited (Exact «API limits»).
        _, valid = self._client(request)
        if not valid:
            return _error_response(ExactError(401, "Unauthorized"))
        try:
            options = parse_options(request.query_params, model.ME, select_required=False)
        except ExactError as error:
            return self._represent(request, _error_response(error))
        record = self.division.me_record(self.user)
        body = serialize(
            model.ME,
            record,
            self.division,
            set_url=f"{self.base_url}/api/v1/current/Me",
            select=options.select,
        )
        return self._represent(request, JSONResponse({"d": {"results": [body]}}))

    async def batch(self, request: Request) -> Response:
        return _error_response(ODataError("The $batch operation is not supported."))

    async def download(self, request: Request) -> Response:
        _, valid = self._client(request)
        if not valid:
            return _error_response(ExactError(401, "Unauthorized"))
        content = self.division.attachment_content.get(request.query_params.get("ID", ""))
        if content is None:
            return _error_response(not_found())
        return Response(content, media_type="application/octet-stream")

    async def xml_upload(self, request: Request) -> Response:
        """One upload is one API call, under the same token and limits as REST."""
        client_id, valid = self._client(request)
        if client_id is None or not valid:
            return _error_response(ExactError(401, "Unauthorized"))
        try:
            division_code = int(request.query_params.get("_Division_", ""))
        except ValueError:
            return _error_response(ExactError(400, "Mandatory: _Division_"))
        allowed, rate_headers = self.limiter.consume((client_id, division_code))
        if not allowed:
            return Response(status_code=429, headers=rate_headers)
        if division_code != self.division.code:
            return _error_response(ExactError(403, "Forbidden: no access to this division."))
        body = await request.body()
        if len(body) > xml_upload.MAX_UPLOAD_BYTES:
            # The limit is Exact's; its answer to a larger request is unverified.
            return _error_response(ExactError(413, "The request exceeds the limit of 10.0 MB."))
        topic = request.query_params.get("Topic", "")
        # An upload of entries is a booking: held, and its answer dropped, as a POST is.
        booking = topic == "GLTransactions"
        hold = self.faults.booking_holds.arrived() if booking else None
        if hold is not None and not hold.after_store:
            await hold.wait_here(self.faults.released)
            if not hold.go_on:
                return DroppedResponse(DropMode.RESET, self.faults)
        answer = xml_upload.upload(self.division, topic, body, self.division.now())
        if hold is not None and hold.after_store:
            await hold.wait_here(self.faults.released)
        if booking and (drop := self.faults.take_drop()) is not None:
            return DroppedResponse(drop, self.faults)
        return Response(answer, media_type="application/xml", headers=rate_headers)

    async def division_api(self, request: Request) -> Response:
        return self._represent(request, await self._division_call(request))

    async def _division_call(self, request: Request) -> Response:
        client_id, valid = self._client(request)
        if client_id is None:
            return _error_response(ExactError(401, "Unauthorized"))
        division_code: int = request.path_params["division"]
        path: str = request.path_params["path"]
        endpoint_name = self._endpoint_name(path)
        limit_key = (client_id, division_code)
        if not valid:
            self.error_budget.record(limit_key, endpoint_name, 401)
            return _error_response(ExactError(401, "Unauthorized: the access token has expired."))
        blocked_until = self.error_budget.blocked_until(limit_key, endpoint_name)
        if blocked_until is not None:
            # The block's status code is not documented; 429 keeps clients from hammering on.
            return _error_response(
                ExactError(
                    429,
                    "Too many errors on this endpoint in the last hour: blocked until "
                    f"{blocked_until:%Y-%m-%d %H:%M:%S} UTC.",
                )
            )
        allowed, rate_headers = self.limiter.consume(limit_key)
        if not allowed:
            return Response(status_code=429, headers=rate_headers)
        response = await self._faulty(request)
        if response is None:
            try:
                if division_code != self.division.code:
                    raise ExactError(403, "Forbidden: no access to this division.")
                response = await self._dispatch(request, path)
            except ExactError as error:
                response = _error_response(error)
        self.error_budget.record(limit_key, endpoint_name, response.status_code)
        response.headers.update(rate_headers)
        return response

    def _represent(self, request: Request, response: Response) -> Response:
        """JSON when asked for; otherwise Exact's default, Atom/XML (when switched on)."""
        if not self.atom_unless_json_accepted:
            return response
        if not isinstance(response, JSONResponse) or atom.wants_json(request.headers.get("accept")):
            return response
        xml = atom.to_atom(json.loads(response.body), self.division.clock.now())
        return Response(
            xml,
            status_code=response.status_code,
            headers={
                name: value
                for name, value in response.headers.items()
                if name.lower() not in ("content-type", "content-length")
            },
            media_type="application/atom+xml" if response.status_code < 400 else "application/xml",
        )

    @staticmethod
    def _endpoint_name(path: str) -> str:
        match = _PATH.match(path.removesuffix("/$count"))
        return (match.group("set") if match else path).lower()

    async def _faulty(self, request: Request) -> Response | None:
        faults = self.faults
        if faults.roll(faults.latency_rate):
            await asyncio.sleep(faults.latency_seconds)
        if faults.roll(faults.hang_rate):
            await _wait_for_disconnect(request.receive, faults)
            return Response(status_code=504)
        if faults.roll(faults.server_error_rate):
            status = faults.server_error_status()
            return _error_response(ExactError(status, f"Injected server error {status}."))
        return None

    async def _dispatch(self, request: Request, path: str) -> Response:
        count_only = path.endswith("/$count")
        match = _PATH.match(path.removesuffix("/$count"))
        if path.endswith("$batch"):
            raise ODataError("The $batch operation is not supported.")
        if match is None:
            raise not_found()
        endpoint = ENDPOINTS.get(match.group("set").lower())
        if endpoint is None:
            raise not_found()
        if request.method == "POST" and match.group("key") is None and not count_only:
            return await self._create(request, endpoint)
        if request.method != "GET" or (endpoint.source == "printed"):
            raise ExactError(
                405, f"The requested resource does not support http method '{request.method}'."
            )
        source = self._source(endpoint)
        if match.group("key") is not None:
            return self._get_one(request, endpoint, source, match.group("key"), match.group("nav"))
        return self._get_list(request, endpoint, source, count_only)

    def _source(self, endpoint: Endpoint) -> Any:
        if endpoint.source == "divisions":
            return _DivisionsSource(self.division)
        if endpoint.source == "transactions":
            return _TransactionLinesSource(self.division)
        if endpoint.source == "journal_statuses":
            return _JournalStatusSource(self.division)
        if endpoint.source in self.division.line_stores:
            return self.division.line_stores[endpoint.source]
        return self.division.stores[endpoint.source]

    def _set_url(self, path: str) -> str:
        return f"{self.base_url}/api/v1/{self.division.code}/{path}"

    def _get_one(
        self, request: Request, endpoint: Endpoint, source: Any, key_text: str, nav: str | None
    ) -> Response:
        entity_type: EntityType = source.entity_type
        key = _parse_key(key_text, entity_type)
        options = parse_options(request.query_params, entity_type, select_required=False)
        with self.division.lock:
            record = source.get(key)
            if record is None:
                raise not_found()
            if nav is not None:
                if nav != entity_type.lines_property or entity_type.line_type is None:
                    raise not_found()
                line_type = entity_type.line_type
                line_options = parse_options(request.query_params, line_type, select_required=False)
                results = [
                    serialize(
                        line_type,
                        line,
                        self.division,
                        set_url=self._set_url(endpoint.lines_set or ""),
                        select=line_options.select,
                    )
                    for line in record[nav]
                ]
                return JSONResponse({"d": {"results": results}})
            body = serialize(
                entity_type,
                record,
                self.division,
                set_url=self._set_url(endpoint.path),
                select=options.select,
                expand=options.expand,
                lines_set_url=self._set_url(endpoint.lines_set) if endpoint.lines_set else None,
            )
        return JSONResponse({"d": body})

    def _get_list(
        self, request: Request, endpoint: Endpoint, source: Any, count_only: bool
    ) -> Response:
        entity_type: EntityType = source.entity_type
        params = dict(request.query_params)
        options = parse_options(params, entity_type, select_required=endpoint.bulk)
        if endpoint.mandatory_filter and not (
            options.filter and options.filter.referenced_fields & set(endpoint.mandatory_filter)
        ):
            raise ODataError(
                "This endpoint has mandatory filtering applied. A GET request for this endpoint "
                "must have a $filter parameter with one of the following fields in the url:"
                + ",".join(endpoint.mandatory_filter)
                + "."
            )
        page_size = BULK_PAGE_SIZE if endpoint.bulk else REGULAR_PAGE_SIZE
        if endpoint.read_service:
            page_size = READ_SERVICE_PAGE_SIZE
        with self.division.lock:
            if count_only:
                counting = parse_options(
                    {**params, "$inlinecount": "allpages", "$top": "0"},
                    entity_type,
                    select_required=False,
                )
                page = run_query(source, counting, self.division, params, page_size)
                return Response(str(page.count), media_type="text/plain")
            page = run_query(source, options, self.division, params, page_size)
            lines_set_url = self._set_url(endpoint.lines_set) if endpoint.lines_set else None
            results = [
                serialize(
                    entity_type,
                    record,
                    self.division,
                    set_url=self._set_url(endpoint.path),
                    select=options.select,
                    expand=options.expand,
                    lines_set_url=lines_set_url,
                )
                for record in page.records
            ]
        body: dict[str, Any] = {"results": results}
        if page.count is not None:
            body["__count"] = str(page.count)
        if page.next_params is not None:
            body["__next"] = next_url(
                f"{self.base_url}/api/v1/{self.division.code}", endpoint.path, page.next_params
            )
        return JSONResponse({"d": body})

    async def _create(self, request: Request, endpoint: Endpoint) -> Response:
        if endpoint.create is None:
            raise ExactError(405, "The requested resource does not support http method 'POST'.")
        try:
            raw = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise stream_error("The request should be a valid top-level resource object.") from (
                error
            )
        hold = self.faults.booking_holds.arrived() if endpoint.booking else None
        if hold is not None and not hold.after_store:
            await hold.wait_here(self.faults.released)
            if not hold.go_on:
                return DroppedResponse(DropMode.RESET, self.faults)
        record = getattr(self.division, endpoint.create)(raw)
        if hold is not None and hold.after_store:
            await hold.wait_here(self.faults.released)
        if endpoint.booking:
            drop = self.faults.take_drop()
            if drop is not None:
                return DroppedResponse(drop, self.faults)
        entity_type: EntityType = (
            model.PRINTED_SALES_INVOICE
            if endpoint.source == "printed"
            else self._source(endpoint).entity_type
        )
        representation = "return=representation" in request.headers.get("prefer", "")
        with self.division.lock:
            # Lines stay deferred in the answer, as integrators read them from Exact's POST
            # results (`SalesEntryLines.__deferred.uri`): a client must GET them.
            body = serialize(
                entity_type, record, self.division, set_url=self._set_url(endpoint.path)
            )
        if not representation:
            # Without `Prefer: return=representation` "most properties come back null".
            body = {
                name: value if name in ("__metadata", entity_type.key) else None
                for name, value in body.items()
            }
        return JSONResponse({"d": body}, status_code=201)


async def _form(request: Request) -> dict[str, str]:
    # Form bodies parsed with the stdlib: Starlette's form() would need python-multipart.
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


def _parse_key(text: str, entity_type: EntityType) -> Any:
    definition = entity_type.by_name[entity_type.key]
    try:
        if definition.kind == model.Kind.GUID:
            if not (text.startswith("guid'") and text.endswith("'")):
                raise ValueError(text)
            return parse_guid(text[5:-1])
        return int(text.removesuffix("L"))
    except ValueError as error:
        raise ODataError(f"Bad Request - Error in query syntax: invalid key '{text}'.") from error
