"""The wc/v3 REST API over a Shop, as a Starlette app.

Routing follows WordPress: `/wp-json/<route>` with pretty permalinks and
`/?rest_route=<route>` (or `/index.php?rest_route=`) always. The order of checks is WordPress's
too: authentication errors first, then the route, then parameter validation, then permission.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from woo_exact_pipeline.sandbox.woocommerce import params as schemas
from woo_exact_pipeline.sandbox.woocommerce.auth import (
    AuthError,
    KeyStore,
    authenticate,
    check_permissions,
)
from woo_exact_pipeline.sandbox.woocommerce.catalogue import variation_as_product
from woo_exact_pipeline.sandbox.woocommerce.documents import invoice_number
from woo_exact_pipeline.sandbox.woocommerce.faults import Faults
from woo_exact_pipeline.sandbox.woocommerce.params import (
    InvalidParams,
    RawParams,
    order_filter_value,
    php_query,
    site_local_filter_value,
    validate,
)
from woo_exact_pipeline.sandbox.woocommerce.pdf import invoice_pdf
from woo_exact_pipeline.sandbox.woocommerce.shop import (
    CHECKOUT_DRAFT,
    ORDER_STATUSES,
    TRASH,
    OrderRecord,
    RefundRecord,
    Shop,
    SortedOrders,
    encode,
)
from woo_exact_pipeline.sandbox.woocommerce.writes import (
    RefundRefused,
    WriteError,
    create_order,
    create_refund,
    delete_order,
    ensure_invoice,
    update_order,
)

JSON_TYPE = "application/json; charset=UTF-8"
DEFAULT_WOOCOMMERCE_VERSION = "11.0.1"
NOT_FOUND_PAGE = """<!DOCTYPE html>
<html lang="nl-NL"><head><meta charset="UTF-8"><title>Pagina niet gevonden – Koffie &amp; Co</title>
</head><body class="error404"><main><h1>Oeps! Deze pagina kon niet worden gevonden.</h1>
<p>Het lijkt erop dat er niets gevonden is op deze locatie.</p></main></body></html>"""
NO_PERMISSION = "You do not have sufficient permissions to access this page."
PAGING_KEYS = frozenset({"page", "per_page", "offset", "_fields"})
EDITABLE = ("GET", "POST", "PUT", "PATCH", "DELETE")
ADMIN_METHODS = ("GET", "POST", "PUT", "PATCH")
ADMIN_USER_ID = 1  # the user that owns the API keys

# Messages of the endpoints' permission checks when nobody is logged in.
UNAUTHENTICATED = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": (
        "woocommerce_rest_cannot_delete",
        "Sorry, you are not allowed to delete this resource.",
    ),
}


# What a WooCommerce 11.0.1 site with no other plugins registers.
SITE_NAMESPACES = (
    "oembed/1.0",
    "wc/v3",
    "wc/v1",
    "wc/pos/v1/catalog",
    "jetpack/v4",
    "wc-admin",
    "wc-analytics",
    "wc/store",
    "wc/store/v1",
    "wc/private",
    "wc/v2",
    "wc-admin-email",
    "wc-telemetry",
    "wccom-site/v3",
    "wp-abilities/v1",
    "wp/v2",
    "wp-site-health/v1",
    "wp-block-editor/v1",
)


def api_keys_work_on_rest_route(woocommerce_version: str) -> bool:
    """WooCommerce 11.1 authenticates API keys on `?rest_route=` too (PR #68247)."""
    numbers = tuple(int(part) for part in re.findall(r"\d+", woocommerce_version)[:2])
    return numbers >= (11, 1)


def error_response(
    code: str, message: str, status: int, headers: dict[str, str] | None = None
) -> Response:
    body = {"code": code, "message": message, "data": {"status": status}}
    return Response(
        encode(body),
        status_code=status,
        media_type=JSON_TYPE,
        headers=headers or {},
    )


def _shift(moment: str, offset: timedelta) -> str:
    return (datetime.fromisoformat(moment) + offset).strftime("%Y-%m-%dT%H:%M:%S")


def _select_fields(document: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """`_fields=a,b.c`: keep only those (nested paths allowed), in the document's own order."""
    wanted = [field.split(".") for field in fields]
    result: dict[str, Any] = {}
    for key, value in document.items():
        paths = [path for path in wanted if path[0] == key]
        if not paths:
            continue
        if any(len(path) == 1 for path in paths):
            result[key] = value
        elif isinstance(value, list):
            continue  # `line_items.sku` leaves line_items out altogether, as WooCommerce does
        elif not isinstance(value, dict):
            result[key] = value
        else:
            result[key] = _select_fields(value, [".".join(path[1:]) for path in paths])
    return result


@dataclass(frozen=True)
class Endpoint:
    pattern: re.Pattern[str]
    method: str  # GET | WRITE (POST, PUT, PATCH) | POST
    permission: str  # list | view | create | edit | public
    handler: str  # method name on WooCommerceApi


def _endpoints() -> list[Endpoint]:
    table = [
        (r"/wc/v3/?", "GET", "public", "namespace_index"),
        (r"/wc/v3/orders", "GET", "list", "list_orders"),
        (r"/wc/v3/orders", "POST", "create", "create_order"),
        (r"/wc/v3/orders/(?P<id>\d+)", "GET", "view", "get_order"),
        (r"/wc/v3/orders/(?P<id>\d+)", "WRITE", "edit", "update_order"),
        (r"/wc/v3/orders/(?P<id>\d+)", "DELETE", "delete", "delete_order"),
        (r"/wc/v3/orders/(?P<order_id>\d+)/refunds", "GET", "list", "list_order_refunds"),
        (r"/wc/v3/orders/(?P<order_id>\d+)/refunds", "POST", "create", "create_refund"),
        (r"/wc/v3/orders/(?P<order_id>\d+)/refunds/(?P<id>\d+)", "GET", "view", "get_refund"),
        (r"/wc/v3/refunds", "GET", "list", "list_refunds"),
        (r"/wc/v3/customers", "GET", "list", "list_customers"),
        (r"/wc/v3/customers/(?P<id>\d+)", "GET", "view", "get_customer"),
        (r"/wc/v3/products", "GET", "list", "list_products"),
        (r"/wc/v3/products/(?P<id>\d+)", "GET", "view", "get_product"),
        (r"/wc/v3/products/(?P<product_id>\d+)/variations", "GET", "list", "list_variations"),
        (
            r"/wc/v3/products/(?P<product_id>\d+)/variations/(?P<id>\d+)",
            "GET",
            "view",
            "get_variation",
        ),
        (r"/wc/v3/variations", "GET", "list", "list_all_variations"),
        (r"/wc/v3/taxes", "GET", "list", "list_taxes"),
        (r"/wc/v3/taxes/classes", "GET", "list", "list_tax_classes"),
        (r"/wc/v3/taxes/(?P<id>\d+)", "GET", "view", "get_tax"),
    ]
    return [Endpoint(re.compile(f"^{p}$"), m, perm, h) for p, m, perm, h in table]


ENDPOINTS = _endpoints()


@dataclass
class Page:
    """One page of a collection plus what the paging headers need."""

    items: list[Any]
    total: int
    total_pages: int
    page: int


class WooCommerceApi:
    def __init__(
        self,
        shop: Shop,
        keys: KeyStore,
        faults: Faults,
        *,
        plain_permalinks: bool = False,
        woocommerce_version: str = DEFAULT_WOOCOMMERCE_VERSION,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.shop = shop
        # When writes happen: the wall clock, or a test's fixed moment.
        self._clock = clock or (lambda: datetime.now(UTC))
        self.keys = keys
        self.faults = faults
        self.plain_permalinks = plain_permalinks
        self.woocommerce_version = woocommerce_version
        self.home_url = "http://127.0.0.1"  # replaced with the real address once listening
        self._cache: OrderedDict[tuple, list[Any]] = OrderedDict()
        # Sort the orders the default listings need now, not on a client's first request.
        for column in ("created_local", "modified_local"):
            shop.sorted_orders(column)
        self.app = Starlette(
            routes=[
                Route("/wp-admin/admin-ajax.php", self.admin_ajax, methods=["GET", "POST"]),
                Route(
                    "/{path:path}",
                    self.entry,
                    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                ),
            ]
        )

    # --- URLs ---------------------------------------------------------------------------

    def rest_url(self, route: str) -> str:
        """get_rest_url(): `/wp-json/...`, or `index.php?rest_route=...` on plain permalinks."""
        if self.plain_permalinks:
            return f"{self.home_url}/index.php?rest_route={route}"
        return f"{self.home_url}/wp-json{route}"

    def oauth_base_url(self, path: str) -> str:
        """The URL OAuth signs: the home URL plus the request path (home path stripped)."""
        relative = path[1:] if path.startswith("/") else path
        return f"{self.home_url}/{relative}" if relative else self.home_url

    def _links(
        self,
        self_route: str,
        collection_route: str,
        allow: tuple[str, ...] = EDITABLE,
        **extra: str,
    ) -> dict[str, Any]:
        # WordPress 6.7+ tells in targetHints which methods the item's own route allows.
        links: dict[str, Any] = {
            "self": [{"href": self.rest_url(self_route), "targetHints": {"allow": list(allow)}}],
            "collection": [{"href": self.rest_url(collection_route)}],
        }
        for name, route in extra.items():
            links[name] = [{"href": self.rest_url(route)}]
        return links

    def order_links(self, record: OrderRecord) -> dict[str, Any]:
        extra = {}
        if record.customer_id:
            extra["customer"] = f"/wc/v3/customers/{record.customer_id}"
        links = self._links(f"/wc/v3/orders/{record.id}", "/wc/v3/orders", **extra)
        links["email_templates"] = [
            {
                "embeddable": True,
                "href": self.rest_url(f"/wc/v3/orders/{record.id}/actions/email_templates"),
            }
        ]
        return links

    def refund_links(self, record: RefundRecord) -> dict[str, Any]:
        base = f"/wc/v3/orders/{record.order_id}"
        return self._links(
            f"{base}/refunds/{record.id}", f"{base}/refunds", allow=("GET", "DELETE"), up=base
        )

    # --- entry --------------------------------------------------------------------------

    async def entry(self, request: Request) -> Response:
        path = request.url.path
        raw = php_query(request.url.query)
        if path.startswith("/wp-json"):
            if self.plain_permalinks:
                return self._not_routed(path, request.url.query)
            return await self._with_faults(request, path[len("/wp-json") :] or "/", raw)
        if path in ("/", "/index.php"):
            rest_route = raw.get("rest_route")
            if isinstance(rest_route, str):
                return await self._with_faults(request, rest_route, raw, via_rest_route=True)
            return self._home_page()
        if self.plain_permalinks and path.startswith("/index.php/"):
            return self._home_page()  # PATH_INFO is not routed without pretty permalinks
        return HTMLResponse(NOT_FOUND_PAGE, status_code=404)

    def _home_page(self) -> Response:
        return HTMLResponse(
            "<!DOCTYPE html><html><head><title>Koffie &amp; Co</title></head>"
            "<body><h1>Koffie &amp; Co</h1></body></html>",
            headers={"Link": f'<{self.rest_url("/")}>; rel="https://api.w.org/"'},
        )

    def _not_routed(self, path: str, query: str) -> Response:
        """Plain permalinks: /wp-json/... is an ordinary page request. WordPress's canonical
        redirect adds the trailing slash (301); the page it lands on is the home page."""
        if path.endswith("/"):
            return self._home_page()
        location = f"{self.home_url}{path}/" + (f"?{query}" if query else "")
        return Response(
            b"",
            status_code=301,
            media_type="text/html; charset=UTF-8",
            headers={"Location": location, "X-Redirect-By": "WordPress"},
        )

    async def _with_faults(
        self, request: Request, route: str, raw: RawParams, *, via_rest_route: bool = False
    ) -> Response:
        fault = self.faults.draw()
        answered = await self.faults.before(fault)
        if answered is not None:
            return answered
        response = await self.rest(request, route, raw, via_rest_route=via_rest_route)
        return Faults.truncate(response) if fault == "truncated" else response

    async def rest(
        self, request: Request, route: str, raw: RawParams, *, via_rest_route: bool = False
    ) -> Response:
        response = await self._answer(request, route, raw, via_rest_route=via_rest_route)
        # WordPress sends its API discovery link with every REST answer, errors included.
        response.headers.setdefault("Link", f'<{self.rest_url("/")}>; rel="https://api.w.org/"')
        return response

    async def _answer(
        self, request: Request, route: str, raw: RawParams, *, via_rest_route: bool
    ) -> Response:
        method = request.method
        is_ssl = request.url.scheme == "https"
        key = None
        # Up to 11.0.x WooCommerce looks for "wp-json/wc/" in the request URI before it reads
        # any API key, so `?rest_route=` requests stay anonymous (woocommerce#41191).
        keys_read = not via_rest_route or api_keys_work_on_rest_route(self.woocommerce_version)
        if keys_read and route.lstrip("/").startswith(("wc/", "wc-")):
            try:
                key = authenticate(
                    keys=self.keys,
                    is_ssl=is_ssl,
                    method=method,
                    base_url=self.oauth_base_url(request.url.path),
                    params=raw,
                    authorization=request.headers.get("authorization"),
                )
                if key is not None:
                    check_permissions(key, method)
            except AuthError as error:
                return error_response(error.code, error.message, error.status)
        if route in ("/", ""):
            return self._json(self.site_index())
        verb = "GET" if method == "HEAD" else method
        for endpoint in ENDPOINTS:
            match = endpoint.pattern.match(route)
            if match is None:
                continue
            if endpoint.method == verb or (
                endpoint.method == "WRITE" and verb in ("POST", "PUT", "PATCH")
            ):
                handler: Callable[..., Awaitable[Response]] = getattr(self, endpoint.handler)
                ids = {name: int(value) for name, value in match.groupdict().items()}
                try:
                    return await handler(request, raw, key is not None, endpoint, **ids)
                except InvalidParams as invalid:
                    return Response(encode(invalid.body()), status_code=400, media_type=JSON_TYPE)
                except RefundRefused as refused:
                    body = {
                        "code": refused.code,
                        "message": refused.message,
                        "data": refused.status,
                    }
                    return Response(encode(body), status_code=500, media_type=JSON_TYPE)
                except WriteError as refused:
                    return error_response(refused.code, refused.message, refused.status)
        return error_response(
            "rest_no_route", "No route was found matching the URL and request method.", 404
        )

    # --- response helpers ---------------------------------------------------------------

    def _json(
        self, body: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        content = body if isinstance(body, bytes) else encode(body)
        extra = dict(headers or {})
        # The paging links replace WordPress's API discovery link: one Link header either way.
        links = [extra.pop("Link", f'<{self.rest_url("/")}>; rel="https://api.w.org/"')]
        return Response(
            content,
            status_code=status,
            media_type=JSON_TYPE,
            headers={
                "X-Robots-Tag": "noindex",
                "X-Content-Type-Options": "nosniff",
                "Access-Control-Expose-Headers": "X-WP-Total, X-WP-TotalPages, Link",
                "Link": ", ".join(links),
                **extra,
            },
        )

    @staticmethod
    def _denied(endpoint: Endpoint) -> Response:
        code, message = UNAUTHENTICATED[endpoint.permission]
        return error_response(code, message, 401)

    def _paginate(
        self, records: list[Any], values: dict[str, Any], *, counted_by_page: bool
    ) -> Page:
        per_page: int = values["per_page"]
        page: int = values["page"]
        start = values["offset"] if values["offset"] is not None else (page - 1) * per_page
        items = records[start : start + per_page]
        total = len(records)
        if counted_by_page and not items:
            # WP_Query and the HPOS order query count only when the page found rows: a page
            # beyond the end reports 0 of 0.
            total = 0
        return Page(items, total, math.ceil(total / per_page), page)

    def _link_header(self, route: str, echoed: RawParams, page: Page) -> str:
        """WC_REST_CRUD_Controller: prev/next only, echoing the request's parameters as the
        controller left them (add_query_arg over urlencode_deep)."""
        pairs: list[tuple[str, str]] = []
        for name, value in echoed.items():
            if name == "rest_route":
                continue
            if isinstance(value, list):
                pairs.extend((f"{name}[{index}]", item) for index, item in enumerate(value))
            else:
                pairs.append((name, value))
        base = self.rest_url(route)

        def url_for(number: int) -> str:
            query = [(k, v) for k, v in pairs if k != "page"]
            position = next((i for i, (k, _) in enumerate(pairs) if k == "page"), len(query))
            query.insert(position, ("page", str(number)))
            encoded = "&".join(
                f"{quote_plus(k, safe='')}={quote_plus(v, safe='')}" for k, v in query
            )
            return f"{base}{'&' if '?' in base else '?'}{encoded}"

        links = []
        if page.page > 1:
            links.append(f'<{url_for(min(page.page - 1, page.total_pages))}>; rel="prev"')
        if page.total_pages > page.page:
            links.append(f'<{url_for(page.page + 1)}>; rel="next"')
        return ", ".join(links)

    def _as_the_order_controller_leaves_it(
        self, raw: RawParams, values: dict[str, Any], page: Page, *, statuses: bool
    ) -> RawParams:
        """The orders and refunds controllers write into the request while answering: the
        status filter becomes an array at the end, and rendering an item sets `dp` and
        `context`. Their paging links echo that."""
        echoed: RawParams = {k: v for k, v in raw.items() if not (statuses and k == "status")}
        if statuses:
            echoed["status"] = list(values["status"])
        if page.items:
            echoed.setdefault("dp", str(self.shop.settings.decimals))
            echoed.setdefault("context", "view")
        return echoed

    def _collection(
        self,
        route: str,
        raw: RawParams,
        values: dict[str, Any],
        records: list[Any],
        render: Callable[[Any], bytes],
        *,
        counted_by_page: bool = True,
        echo: Callable[[Page], RawParams] | None = None,
    ) -> Response:
        page = self._paginate(records, values, counted_by_page=counted_by_page)
        fields = values.get("_fields")
        parts = []
        for record in page.items:
            rendered = render(record)
            if fields:
                rendered = encode(_select_fields(json.loads(rendered), fields))
            parts.append(rendered)
        headers = {"X-WP-Total": str(page.total), "X-WP-TotalPages": str(page.total_pages)}
        link = self._link_header(route, echo(page) if echo else raw, page)
        if link:
            headers["Link"] = link
        return self._json(b"[" + b",".join(parts) + b"]", headers=headers)

    def _single(self, rendered: bytes, raw: RawParams, status: int = 200) -> Response:
        fields = raw.get("_fields")
        if isinstance(fields, str) and fields:
            rendered = encode(_select_fields(json.loads(rendered), fields.split(",")))
        return self._json(rendered, status=status)

    @staticmethod
    def _with_links(blob: bytes, links: dict[str, Any]) -> bytes:
        return blob[:-1] + b',"_links":' + encode(links) + b"}"

    def render_order(self, record: OrderRecord) -> bytes:
        return self._with_links(record.blob, self.order_links(record))

    def render_refund(self, record: RefundRecord) -> bytes:
        return self._with_links(record.blob, self.refund_links(record))

    def render_document(self, document: dict[str, Any], links: dict[str, Any]) -> bytes:
        return encode({**document, "_links": links})

    def _cached(self, key: tuple, compute: Callable[[], list[Any]]) -> list[Any]:
        """Filtered, sorted result sets, reused while paging through them."""
        full_key = (*key, self.shop.revision)
        if full_key in self._cache:
            self._cache.move_to_end(full_key)
            return self._cache[full_key]
        with self.shop.lock:
            result = compute()
        self._cache[full_key] = result
        while len(self._cache) > 32:
            self._cache.popitem(last=False)
        return result

    @staticmethod
    def _query_key(route: str, values: dict[str, Any]) -> tuple:
        return (
            route,
            tuple(
                (name, json.dumps(value, sort_keys=True, default=str))
                for name, value in sorted(values.items())
                if name not in PAGING_KEYS
            ),
        )

    # --- filters ------------------------------------------------------------------------

    def _date_window(self, values: dict[str, Any]) -> list[Callable[[Any], bool]]:
        """after/before on creation, modified_after/before on modification; exclusive."""
        gmt = values.get("dates_are_gmt", False)
        zone = self.shop.settings.zone
        checks: list[Callable[[Any], bool]] = []
        for name, attribute, later in (
            ("after", "created", True),
            ("before", "created", False),
            ("modified_after", "modified", True),
            ("modified_before", "modified", False),
        ):
            if values.get(name) is None:
                continue
            bound = site_local_filter_value(values[name], zone)
            column = f"{attribute}_{'gmt' if gmt else 'local'}"
            if later:
                checks.append(lambda record, c=column, b=bound: getattr(record, c) > b)
            else:
                checks.append(lambda record, c=column, b=bound: getattr(record, c) < b)
        return checks

    @staticmethod
    def _sorted(records: Iterable[Any], values: dict[str, Any], columns: dict[str, str]) -> list:
        """CRUD ordering: date and modified break ties on ID, like WC's 'date ID'."""
        orderby = values["orderby"]
        reverse = values["order"] == "desc"
        records = list(records)
        if orderby == "include" and values["include"]:
            position = {item_id: index for index, item_id in enumerate(values["include"])}
            return sorted(records, key=lambda record: position.get(record.id, len(position)))
        column = columns.get(orderby)
        if column is None:
            return sorted(records, key=lambda record: record.id, reverse=reverse)
        return sorted(
            records, key=lambda record: (getattr(record, column), record.id), reverse=reverse
        )

    # --- orders -------------------------------------------------------------------------

    async def list_orders(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint
    ) -> Response:
        values = validate(raw, schemas.ORDERS)
        if not authenticated:
            return self._denied(endpoint)

        def compute() -> list[OrderRecord]:
            return self._order_query(values)

        records = self._cached(self._query_key("orders", values), compute)
        return self._collection(
            "/wc/v3/orders",
            raw,
            values,
            records,
            self.render_order,
            echo=lambda page: self._as_the_order_controller_leaves_it(
                raw, values, page, statuses=True
            ),
        )

    def _order_query(self, values: dict[str, Any]) -> list[OrderRecord]:
        """Filter a pre-sorted index: a date bound on the sort column narrows it by bisection,
        the remaining conditions are tested inline (this runs over every order of a big shop)."""
        requested = set(values["status"])
        # "any" is every registered status but the trash, which must be asked for by name, and
        # the block checkout's drafts, which only `status=checkout-draft` on its own lists.
        if "any" in requested:
            statuses = (set(ORDER_STATUSES) | requested) - {"any", CHECKOUT_DRAFT}
        else:
            statuses = requested
        every_status = (
            "any" in requested
            and (TRASH in requested or self.shop.trashed_orders == 0)
            and self.shop.draft_orders == 0
        )
        include = set(values["include"])
        exclude = set(values["exclude"])
        customer = values["customer"]
        product = values["product"]
        created_via = set(values["created_via"] or [])
        # WooCommerce searches addresses, e-mails and item names; the stored JSON holds them all.
        search = encode(values["search"])[1:-1].lower() if values["search"] else b""
        zone = self.shop.settings.zone
        # Every bound becomes a GMT moment and is compared with the GMT columns.
        created_column, modified_column = "created_gmt", "modified_gmt"

        def bound(name: str) -> str | None:
            value = values[name]
            if value is None:
                return None
            return order_filter_value(value, zone, values["dates_are_gmt"])

        created_after, created_before = bound("after"), bound("before")
        modified_after, modified_before = bound("modified_after"), bound("modified_before")
        orderby = values["orderby"]
        sort_column = {"date": "created_local", "modified": "modified_local"}.get(orderby, "id")
        index = self.shop.sorted_orders(sort_column)
        records = index.records
        low, sure_low, sure_high, high = 0, 0, len(records), len(records)
        narrowed = ""  # the attribute whose bounds the bisection settled
        for attribute, after, before in (
            ("created", created_after, created_before),
            ("modified", modified_after, modified_before),
        ):
            if sort_column == f"{attribute}_local" and (after or before):
                low, sure_low, sure_high, high = self._band(index, after, before, gmt=True)
                narrowed = attribute
        # Conditions the bisection did not already settle.
        other_conditions = (
            not every_status
            or include
            or exclude
            or customer is not None
            or product is not None
            or created_via
            or search
            or (narrowed != "created" and (created_after or created_before))
            or (narrowed != "modified" and (modified_after or modified_before))
        )

        def matching(part: list[OrderRecord]) -> list[OrderRecord]:
            return [
                record
                for record in part
                if (every_status or record.status in statuses)
                and (not include or record.id in include)
                and (not exclude or record.id not in exclude)
                and (customer is None or record.customer_id == customer)
                and (product is None or product in record.product_ids)
                and (not created_via or record.created_via in created_via)
                and (not search or search in record.blob.lower())
                and (created_after is None or getattr(record, created_column) > created_after)
                and (created_before is None or getattr(record, created_column) < created_before)
                and (modified_after is None or getattr(record, modified_column) > modified_after)
                and (modified_before is None or getattr(record, modified_column) < modified_before)
            ]

        if other_conditions or sure_low >= sure_high:
            candidates = matching(records[low:high])
        else:
            candidates = (
                matching(records[low:sure_low])
                + records[sure_low:sure_high]
                + matching(records[sure_high:high])
            )
        if orderby == "include" and values["include"]:
            position = {order_id: rank for rank, order_id in enumerate(values["include"])}
            return sorted(candidates, key=lambda record: position[record.id])
        return candidates[::-1] if values["order"] == "desc" else candidates

    def _band(
        self, index: SortedOrders, after: str | None, before: str | None, gmt: bool
    ) -> tuple[int, int, int, int]:
        """Positions low <= sure_low, sure_high <= high in an index sorted by site-local time:
        orders in [sure_low, sure_high) meet the bounds, those in [low, sure_low) and
        [sure_high, high) must be checked, the rest cannot match.

        A GMT bound maps onto local times within the time zone's range of UTC offsets."""
        keys = index.keys
        shortest, longest = self._offset_range() if gmt else (timedelta(0), timedelta(0))
        low = sure_low = 0
        sure_high = high = len(keys)
        if after is not None:
            low = bisect_right(keys, (_shift(after, shortest), math.inf))
            sure_low = bisect_right(keys, (_shift(after, longest), math.inf))
        if before is not None:
            sure_high = bisect_left(keys, (_shift(before, shortest), -1))
            high = bisect_left(keys, (_shift(before, longest), -1))
        return low, sure_low, sure_high, high

    def _offset_range(self) -> tuple[timedelta, timedelta]:
        """The smallest and largest UTC offset of the site's zone over the shop's years."""
        dates = self.shop.sorted_orders("created_local").keys
        first_year = int(dates[0][0][:4]) - 1 if dates else datetime.now(UTC).year - 1
        zone = self.shop.settings.zone
        offsets = [
            datetime(year, month, day, tzinfo=zone).utcoffset() or timedelta(0)
            for year in range(first_year, datetime.now(UTC).year + 2)
            for month in range(1, 13)
            for day in (1, 15)
        ]
        return min(offsets), max(offsets)

    async def get_order(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint, id: int
    ) -> Response:
        record = self.shop.orders.get(id)
        if record is None:
            return error_response("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        if not authenticated:
            return self._denied(endpoint)
        return self._single(self.render_order(record), raw)

    async def _body(self, request: Request) -> dict[str, Any]:
        raw_body = await request.body()
        if not raw_body:
            return {}
        if "json" in request.headers.get("content-type", "json"):
            try:
                body = json.loads(raw_body)
            except ValueError as error:
                raise WriteError("rest_invalid_json", "Invalid JSON body passed.") from error
            if not isinstance(body, dict):
                raise WriteError("rest_invalid_json", "Invalid JSON body passed.")
            return body
        return {key: value for key, value in php_query(raw_body.decode()).items()}

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC).replace(microsecond=0)

    async def create_order(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint
    ) -> Response:
        if not authenticated:
            return self._denied(endpoint)
        order = create_order(self.shop, await self._body(request), self._now())
        return self._single(self.render_order(self.shop.orders[order["id"]]), raw, status=201)

    async def update_order(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint, id: int
    ) -> Response:
        if id not in self.shop.orders:
            return error_response("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        if not authenticated:
            return self._denied(endpoint)
        update_order(self.shop, id, await self._body(request), self._now())
        return self._single(self.render_order(self.shop.orders[id]), raw)

    async def delete_order(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint, id: int
    ) -> Response:
        if id not in self.shop.orders:
            return error_response("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        if not authenticated:
            return self._denied(endpoint)
        links = self.order_links(self.shop.orders[id])
        force = str(raw.get("force", "")).lower() in ("1", "true")
        order = delete_order(self.shop, id, force=force, when=self._now())
        return self._single(self.render_document(order, links), raw)

    # --- refunds ------------------------------------------------------------------------

    def _refund_query(self, values: dict[str, Any], parents: set[int]) -> list[RefundRecord]:
        include = set(values["include"])
        exclude = set(values["exclude"])
        checks = self._date_window(values)
        return self._sorted(
            (
                record
                for record in self.shop.refunds.values()
                if (not parents or record.order_id in parents)
                and (not include or record.id in include)
                and record.id not in exclude
                and all(check(record) for check in checks)
            ),
            values,
            {"date": "created_local", "modified": "created_local"},
        )

    async def list_order_refunds(
        self,
        request: Request,
        raw: RawParams,
        authenticated: bool,
        endpoint: Endpoint,
        order_id: int,
    ) -> Response:
        values = validate(raw, schemas.REFUNDS)
        if not authenticated:
            return self._denied(endpoint)
        if order_id not in self.shop.orders:
            return error_response("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
        records = self._cached(
            self._query_key(f"orders/{order_id}/refunds", values),
            lambda: self._refund_query(values, {order_id}),
        )
        return self._collection(
            f"/wc/v3/orders/{order_id}/refunds",
            raw,
            values,
            records,
            self.render_refund,
            echo=lambda page: self._as_the_order_controller_leaves_it(
                raw, values, page, statuses=False
            ),
        )

    async def list_refunds(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint
    ) -> Response:
        values = validate(raw, schemas.REFUNDS)
        if not authenticated:
            return self._denied(endpoint)
        records = self._cached(
            self._query_key("refunds", values),
            lambda: self._refund_query(values, set(values["parent"])),
        )

        def render(record: RefundRecord) -> bytes:
            # The store-wide endpoint names each refund's order in `parent_id`.
            document = record.document()
            document = {"id": document.pop("id"), "parent_id": record.order_id, **document}
            return self.render_document(document, self.refund_links(record))

        return self._collection(
            "/wc/v3/refunds",
            raw,
            values,
            records,
            render,
            echo=lambda page: self._as_the_order_controller_leaves_it(
                raw, values, page, statuses=False
            ),
        )

    async def get_refund(
        self,
        request: Request,
        raw: RawParams,
        authenticated: bool,
        endpoint: Endpoint,
        order_id: int,
        id: int,
    ) -> Response:
        record = self.shop.refunds.get(id)
        if record is None or record.order_id != order_id:
            return error_response(
                "woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID.", 404
            )
        if not authenticated:
            return self._denied(endpoint)
        return self._single(self.render_refund(record), raw)

    async def create_refund(
        self,
        request: Request,
        raw: RawParams,
        authenticated: bool,
        endpoint: Endpoint,
        order_id: int,
    ) -> Response:
        if not authenticated:
            return self._denied(endpoint)
        refund = create_refund(self.shop, order_id, await self._body(request), self._now())
        return self._single(self.render_refund(self.shop.refunds[refund["id"]]), raw, status=201)

    # --- customers, products, taxes -----------------------------------------------------

    async def list_customers(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint
    ) -> Response:
        values = validate(raw, schemas.CUSTOMERS)
        if not authenticated:
            return self._denied(endpoint)
        include, exclude = set(values["include"]), set(values["exclude"])
        email = values["email"]
        role = values["role"]
        search = (values["search"] or "").lower()
        with self.shop.lock:
            customers = [
                customer
                for customer in self.shop.customers.values()
                if (role == "all" or customer["role"] == role)
                and (not include or customer["id"] in include)
                and customer["id"] not in exclude
                and (email is None or customer["email"].lower() == email.lower())
                and (
                    not search
                    or search in customer["email"].lower()
                    or search in f"{customer['first_name']} {customer['last_name']}".lower()
                )
            ]
        orderby = values["orderby"]
        if orderby == "include" and values["include"]:
            position = {item_id: index for index, item_id in enumerate(values["include"])}
            customers.sort(key=lambda customer: position[customer["id"]])
        else:
            sort_key = {
                "id": lambda customer: customer["id"],
                "name": lambda customer: customer["username"],
                "registered_date": lambda customer: (customer["date_created_gmt"], customer["id"]),
            }.get(orderby, lambda customer: customer["id"])
            customers.sort(key=sort_key, reverse=values["order"] == "desc")
        return self._collection(
            "/wc/v3/customers",
            raw,
            values,
            customers,
            lambda customer: self.render_document(customer, self._customer_links(customer["id"])),
            counted_by_page=False,  # WP_User_Query counts every match
        )

    async def get_customer(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint, id: int
    ) -> Response:
        if not authenticated:
            return self._denied(endpoint)
        customer = self.shop.customers.get(id)
        if customer is None:
            return error_response("wc_user_invalid_id", "Invalid user ID.", 404)
        links = self._customer_links(id)
        return self._single(self.render_document(customer, links), raw)

    def _customer_links(self, customer_id: int) -> dict[str, Any]:
        # The API key's own user (the administrator) may not delete itself.
        allow = ADMIN_METHODS if customer_id == ADMIN_USER_ID else EDITABLE
        return self._links(f"/wc/v3/customers/{customer_id}", "/wc/v3/customers", allow)

    def _catalogue_rows(self, documents: Iterable[dict[str, Any]]) -> list[_Row]:
        return [_Row(document) for document in documents]

    def _catalogue_query(
        self, values: dict[str, Any], rows: list[_Row], extra: Callable[[_Row], bool]
    ) -> list[_Row]:
        include, exclude = set(values["include"]), set(values["exclude"])
        skus = set(values.get("sku") or [])
        checks = self._date_window(values)
        search = (values.get("search") or "").lower()
        selected = [
            row
            for row in rows
            if (not include or row.id in include)
            and row.id not in exclude
            and (not skus or row.document["sku"] in skus)
            and (not search or search in row.document.get("name", "").lower())
            and extra(row)
            and all(check(row) for check in checks)
        ]
        return self._sorted(
            selected,
            values,
            {
                "date": "created_local",
                "modified": "modified_local",
                "title": "name",
                "slug": "slug",
                "price": "price",
                "popularity": "total_sales",
            },
        )

    def _product_links(self, document: dict[str, Any]) -> dict[str, Any]:
        parent = self.shop.variation_parents.get(document["id"])
        if parent is not None:
            base = f"/wc/v3/products/{parent}/variations"
            return self._links(f"{base}/{document['id']}", base, up=f"/wc/v3/products/{parent}")
        return self._links(f"/wc/v3/products/{document['id']}", "/wc/v3/products")

    async def list_products(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint
    ) -> Response:
        values = validate(raw, schemas.PRODUCTS)
        if not authenticated:
            return self._denied(endpoint)
        with self.shop.lock:
            rows = self._catalogue_rows(self.shop.products.values())
            if values["sku"]:
                # A SKU search spans products and variations, so variations can show up here.
                rows += self._catalogue_rows(self.shop.variations.values())
        product_type, status = values["type"], values["status"]
        records = self._catalogue_query(
            values,
            rows,
            lambda row: (
                (product_type is None or row.document.get("type") == product_type)
                and (status == "any" or row.document["status"] == status)
            ),
        )
        return self._collection(
            "/wc/v3/products",
            raw,
            values,
            records,
            lambda row: self.render_document(row.document, self._product_links(row.document)),
        )

    async def get_product(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint, id: int
    ) -> Response:
        product = self.shop.products.get(id)
        variation = self.shop.variations.get(id)
        if product is None and variation is not None:
            parent = self.shop.products[self.shop.variation_parents[id]]
            product = variation_as_product(variation, parent)
            links = self._links(
                f"/wc/v3/products/{id}", "/wc/v3/products", up=f"/wc/v3/products/{parent['id']}"
            )
        elif product is not None:
            links = self._product_links(product)
            if raw.get("context") == "edit":
                # The edit context adds the post's slug and permalink templates.
                template = f"{self.home_url}/product/%pagename%/"
                product = {
                    **product,
                    "generated_slug": product.get("slug", ""),
                    "permalink_template": template,
                }
        else:
            return error_response("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        if not authenticated:
            return self._denied(endpoint)
        return self._single(self.render_document(product, links), raw)

    def _variation_output(self, variation: dict[str, Any]) -> dict[str, Any]:
        """A variation names its parent product in `parent_id` (WooCommerce 10+)."""
        return {**variation, "parent_id": self.shop.variation_parents[variation["id"]]}

    async def list_variations(
        self,
        request: Request,
        raw: RawParams,
        authenticated: bool,
        endpoint: Endpoint,
        product_id: int,
    ) -> Response:
        values = validate(raw, schemas.VARIATIONS)
        if not authenticated:
            return self._denied(endpoint)
        if product_id not in self.shop.products:
            return error_response("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        with self.shop.lock:
            rows = self._catalogue_rows(
                variation
                for variation_id, variation in self.shop.variations.items()
                if self.shop.variation_parents[variation_id] == product_id
            )
        records = self._catalogue_query(values, rows, lambda row: True)
        return self._collection(
            f"/wc/v3/products/{product_id}/variations",
            raw,
            values,
            records,
            lambda row: self.render_document(
                self._variation_output(row.document), self._product_links(row.document)
            ),
        )

    async def list_all_variations(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint
    ) -> Response:
        """WooCommerce 10.3+: every variation of every product, each naming its parent."""
        values = validate(raw, schemas.VARIATIONS)
        if not authenticated:
            return self._denied(endpoint)
        with self.shop.lock:
            rows = self._catalogue_rows(self.shop.variations.values())
        records = self._catalogue_query(values, rows, lambda row: True)
        return self._collection(
            "/wc/v3/variations",
            raw,
            values,
            records,
            lambda row: self.render_document(
                {**row.document, "parent_id": self.shop.variation_parents[row.id]},
                self._product_links(row.document),
            ),
        )

    async def get_variation(
        self,
        request: Request,
        raw: RawParams,
        authenticated: bool,
        endpoint: Endpoint,
        product_id: int,
        id: int,
    ) -> Response:
        variation = self.shop.variations.get(id)
        if variation is None or self.shop.variation_parents.get(id) != product_id:
            return error_response(
                "woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404
            )
        if not authenticated:
            return self._denied(endpoint)
        document = self._variation_output(variation)
        return self._single(self.render_document(document, self._product_links(variation)), raw)

    async def list_taxes(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint
    ) -> Response:
        values = validate(raw, schemas.TAXES)
        if not authenticated:
            return self._denied(endpoint)
        include, exclude = set(values["include"]), set(values["exclude"])
        tax_class = values["class"]
        taxes = [
            tax
            for tax in self.shop.taxes
            if (tax_class is None or tax["class"] == tax_class)
            and (not include or tax["id"] in include)
            and tax["id"] not in exclude
        ]
        taxes.sort(
            key=lambda tax: (tax[values["orderby"]], tax["id"]), reverse=values["order"] == "desc"
        )
        return self._collection(
            "/wc/v3/taxes",
            raw,
            values,
            taxes,
            lambda tax: self.render_document(
                tax, self._links(f"/wc/v3/taxes/{tax['id']}", "/wc/v3/taxes")
            ),
            counted_by_page=False,  # the tax rates table is counted as a whole
        )

    async def get_tax(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint, id: int
    ) -> Response:
        if not authenticated:
            return self._denied(endpoint)
        tax = next((tax for tax in self.shop.taxes if tax["id"] == id), None)
        if tax is None:
            return error_response("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
        links = self._links(f"/wc/v3/taxes/{id}", "/wc/v3/taxes")
        return self._single(self.render_document(tax, links), raw)

    async def list_tax_classes(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint
    ) -> Response:
        if not authenticated:
            return self._denied(endpoint)
        classes = [
            {
                **tax_class,
                "_links": {
                    "collection": [{"href": self.rest_url("/wc/v3/taxes/classes")}],
                },
            }
            for tax_class in self.shop.tax_classes
        ]
        count = str(len(classes))
        return self._json(classes, headers={"X-WP-Total": count, "X-WP-TotalPages": "1"})

    # --- discovery ----------------------------------------------------------------------

    def site_index(self) -> dict[str, Any]:
        # Application passwords are offered over HTTPS only; PHP's empty array is `[]`.
        authentication: dict[str, Any] | list[Any] = []
        if self.home_url.startswith("https://"):
            authorize = f"{self.home_url}/wp-admin/authorize-application.php"
            authentication = {"application-passwords": {"endpoints": {"authorization": authorize}}}
        return {
            "name": "Koffie & Co",
            "description": "Koffie, thee en alles om het te zetten",
            "url": self.home_url,
            "home": self.home_url,
            "gmt_offset": 1,
            "timezone_string": self.shop.settings.timezone,
            "namespaces": list(SITE_NAMESPACES),
            "authentication": authentication,
            "routes": {},
        }

    async def namespace_index(
        self, request: Request, raw: RawParams, authenticated: bool, endpoint: Endpoint
    ) -> Response:
        routes = {
            re.sub(r"\(\?P<(\w+)>\\d\+\)", r"(?P<\1>[\\d]+)", item.pattern.pattern[1:-1]): {
                "namespace": "wc/v3",
                "methods": ["GET"] if item.method == "GET" else ["POST", "PUT", "PATCH"],
            }
            for item in ENDPOINTS
        }
        return self._json({"namespace": "wc/v3", "routes": routes})

    # --- PDF Invoices & Packing Slips ---------------------------------------------------

    async def admin_ajax(self, request: Request) -> Response:
        raw = php_query(request.url.query)
        if raw.get("action") != "generate_wpo_wcpdf":
            return Response("0", status_code=400, media_type="text/html; charset=UTF-8")
        fault = self.faults.draw()
        answered = await self.faults.before(fault)
        if answered is not None:
            return answered
        # wp_die() inside admin-ajax answers 200 with just the message.
        denied = Response(NO_PERMISSION, status_code=200, media_type="text/html; charset=UTF-8")
        order_ids = str(raw.get("order_ids", ""))
        access_key = raw.get("access_key", raw.get("order_key"))
        if raw.get("document_type") != "invoice" or not order_ids.isdigit():
            return denied
        record = self.shop.orders.get(int(order_ids))
        if record is None or not isinstance(access_key, str):
            return denied
        order = record.document()
        if order["order_key"] != access_key:
            return denied
        order = ensure_invoice(self.shop, int(order_ids), self._now())
        number = invoice_number(order)
        pdf = invoice_pdf(
            [
                "Koffie & Co",
                f"Factuur {number}",
                f"Bestelling {order['number']} van {order['date_created'][:10]}",
                f"{order['billing']['first_name']} {order['billing']['last_name']}",
                *(
                    f"{item['quantity']} x {item['name']}: {order['currency']} "
                    f"{item['total']} + btw {item['total_tax']}"
                    for item in order["line_items"]
                ),
                f"Totaal: {order['currency']} {order['total']}",
            ]
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="invoice-{number}.pdf"'},
        )


class _Row:
    """A catalogue document with the attributes the shared filters and sorting read."""

    __slots__ = (
        "created_gmt",
        "created_local",
        "document",
        "id",
        "modified_gmt",
        "modified_local",
        "name",
        "price",
        "slug",
        "total_sales",
    )

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.id: int = document["id"]
        self.created_local: str = document["date_created"]
        self.created_gmt: str = document["date_created_gmt"]
        self.modified_local: str = document["date_modified"]
        self.modified_gmt: str = document["date_modified_gmt"]
        self.name: str = document.get("name", "")
        self.slug: str = document.get("slug", "")
        self.price = float(document.get("price") or 0)
        self.total_sales: int = document.get("total_sales", 0)
