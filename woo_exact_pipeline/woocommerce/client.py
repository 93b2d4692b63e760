"""A small, typed client for the WooCommerce REST API (wc/v3), read side.

It works where shops are: HTTPS with Basic auth, falling back to query-string keys when the
host strips the Authorization header; plain HTTP with OAuth 1.0a signatures; sites with plain
permalinks through `?rest_route=`. GETs are retried on 429, 5xx, timeouts and dropped
connections; every other failure becomes a `WooCommerceError` whose message tells the shop
owner what to do. The consumer secret never appears in a message.
"""

from __future__ import annotations

import ipaddress
import json
import random
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from woo_exact_pipeline.tls import verification
from woo_exact_pipeline.woocommerce.oauth import signed_params

if TYPE_CHECKING:
    from woo_exact_pipeline.bookkeeping.order import Record
    from woo_exact_pipeline.config import SyncConfig, WooCommerceSecrets

API_NAMESPACE = "/wc/v3"
PAGE_SIZE = 100
USER_AGENT = "woo-exact-pipeline (+https://github.com/woo-exact-pipeline)"
WRONG_SECRET = "Consumer secret is invalid."
WRONG_SIGNATURE = "Invalid signature - provided signature does not match."
RETRYABLE_STATUSES = {429, 500, 502, 503, 504, 520, 521, 522, 524}


class WooCommerceError(Exception):
    """A failure talking to the shop, worded for the shop owner."""


class WooAuthenticationError(WooCommerceError):
    """The key, the secret or the key's permissions are wrong."""


class WooUnavailableError(WooCommerceError):
    """The shop could not be reached or kept failing after retries."""


class WooResponseError(WooCommerceError):
    """The shop answered, but not with the data the API promises."""


class WooPlainPermalinksError(WooCommerceError):
    """Plain permalinks on a WooCommerce that refuses API keys at `?rest_route=` (<= 11.0.x)."""


PLAIN_PERMALINKS_FIX = (
    'choose "Post name" under Settings > Permalinks in WordPress, or update WooCommerce to '
    "11.1 or later"
)


@dataclass(frozen=True)
class WooPage:
    records: list[Record]
    total: int
    total_pages: int


def gmt_parameter(moment: datetime) -> str:
    """A GMT moment as WooCommerce's date filters want it with dates_are_gmt: naive ISO."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


class WooCommerceClient:
    @classmethod
    def from_settings(
        cls, settings: SyncConfig, secrets: WooCommerceSecrets, **options: Any
    ) -> WooCommerceClient:
        """The shop's client, with its key and secret."""
        shop = settings.woocommerce
        key, secret = secrets.consumer_key, secrets.consumer_secret
        return cls(
            shop.shop_url,
            key.value.strip(),
            secret.value.strip(),
            timeout_seconds=shop.request_timeout_seconds,
            backoff_seconds=shop.retry_backoff_seconds,
            verify=shop.ca_bundle or shop.verify_tls,
            credential_variables=(key.variable, secret.variable),
            **options,
        )

    def __init__(
        self,
        shop_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout_seconds: float = 30.0,
        verify: bool | str = True,  # or the path of a CA certificate file
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        notify: Callable[[str], None] | None = None,
        # Where the owner set the key and secret: named in the advice when the shop refuses.
        credential_variables: tuple[str, str] = ("WOO_CONSUMER_KEY", "WOO_CONSUMER_SECRET"),
        # Tests hand in an httpx.MockTransport; production leaves it to httpx.
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.shop_url = shop_url.rstrip("/")
        self._key = consumer_key
        self._secret = consumer_secret
        self._key_variable, self._secret_variable = credential_variables
        self._https = urlsplit(self.shop_url).scheme == "https"
        self._timeout_seconds = timeout_seconds
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        self._max_backoff_seconds = max_backoff_seconds
        self._sleep = sleep
        self._notify = notify or (lambda message: None)
        self._query_string_auth = False
        self._plain_permalinks = False
        self._refunds_endpoint = True
        self.request_count = 0
        self._http = httpx.Client(
            timeout=timeout_seconds,
            verify=verification(verify),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WooCommerceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what the pipeline reads ---------------------------------------------------------

    def orders_created_between(self, start: datetime, end: datetime) -> Iterator[list[Record]]:
        """Pages of every order (any status) created in [start, end), both GMT."""
        # WooCommerce compares exclusively at whole seconds: after start-1s means >= start.
        return self.pages(
            "orders",
            {
                "after": gmt_parameter(start - timedelta(seconds=1)),
                "before": gmt_parameter(end),
                "dates_are_gmt": "true",
                "status": "any",
                "orderby": "id",
                "order": "asc",
            },
        )

    def latest_orders(self) -> list[Record]:
        """The shop's latest orders (one page, any status), newest first: id and currency."""
        params = {"status": "any", "orderby": "date", "order": "desc", "_fields": "id,currency"}
        return self.page("orders", params, 1).records

    def orders_modified_after(self, since: datetime) -> Iterator[list[Record]]:
        """Pages of (id, creation and modification dates) of orders changed after `since`."""
        return self.pages(
            "orders",
            {
                "modified_after": gmt_parameter(since),
                "dates_are_gmt": "true",
                "status": "any",
                "orderby": "id",
                "order": "asc",
                "_fields": "id,status,date_created_gmt,date_modified_gmt",
            },
        )

    def refunds(self, orders: Sequence[Record]) -> list[Record]:
        """Full refund objects of these orders (their `refunds` list only holds totals)."""
        refund_ids = [refund["id"] for order in orders for refund in order.get("refunds") or []]
        if not refund_ids:
            return []
        if self._refunds_endpoint:
            try:
                return [
                    refund
                    for chunk in _chunks(refund_ids, PAGE_SIZE)
                    for page in self.pages("refunds", {"include": _id_list(chunk)})
                    for refund in page
                ]
            except _NoSuchRoute:
                # The store-wide /refunds route arrived in WooCommerce 9.0; older shops
                # are asked order by order.
                self._refunds_endpoint = False
        refunded_orders = [order for order in orders if order.get("refunds")]
        found = []
        for order in refunded_orders:
            for page in self.pages(f"orders/{order['id']}/refunds", {}):
                found += [{**refund, "parent_id": order["id"]} for refund in page]
        return found

    def customers(self, customer_ids: Iterable[int]) -> Iterator[list[Record]]:
        """Pages of the registered customers with these ids (the endpoint has no date filter)."""
        ids = sorted({customer_id for customer_id in customer_ids if customer_id})
        for chunk in _chunks(ids, PAGE_SIZE):
            yield from self.pages("customers", {"include": _id_list(chunk), "role": "all"})

    def products_modified_after(self, since: datetime | None) -> Iterator[list[Record]]:
        params = {"orderby": "id", "order": "asc", "status": "any"}
        if since is not None:
            params |= {"modified_after": gmt_parameter(since), "dates_are_gmt": "true"}
        return self.pages("products", params)

    def variations(self, product_id: int) -> Iterator[list[Record]]:
        return self.pages(f"products/{product_id}/variations", {"orderby": "id", "order": "asc"})

    def tax_rates(self) -> Iterator[list[Record]]:
        return self.pages("taxes", {"orderby": "id", "order": "asc"})

    def tax_classes(self) -> list[Record]:
        classes, _ = self.get_json("taxes/classes", {})
        return classes

    def invoice_pdf(self, order_id: int, order_key: str) -> bytes:
        """The PDF Invoices & Packing Slips plugin's invoice of an order, by its "full access"
        link. Only ask for orders that already have an invoice number: for one without, the
        plugin creates an invoice (and uses up a number)."""
        url = f"{self.shop_url}/wp-admin/admin-ajax.php"
        params = {
            "action": "generate_wpo_wcpdf",
            "document_type": "invoice",
            "order_ids": str(order_id),
            "access_key": order_key,
        }
        self.request_count += 1
        try:
            response = self._http.get(url, params=params)
        except httpx.HTTPError:
            raise WooUnavailableError(
                f"The invoice PDF of order {order_id} could not be downloaded from {self._host}."
            ) from None
        if not response.content.startswith(b"%PDF"):
            raise WooResponseError(
                f"The invoice link of order {order_id} did not return a PDF (HTTP "
                f"{response.status_code}). In PDF Invoices & Packing Slips, set the document "
                "access to 'Full' so the link works without a login."
            )
        return response.content

    # --- paging and requests --------------------------------------------------------------

    def pages(self, endpoint: str, params: dict[str, str]) -> Iterator[list[Record]]:
        """Every page of a collection, 100 records a page, as long as the shop has more."""
        page_number = 1
        while True:
            page = self.page(endpoint, params, page_number)
            if page.records:
                yield page.records
            if not page.records or page_number >= page.total_pages:
                return
            page_number += 1

    def page(self, endpoint: str, params: dict[str, str], page_number: int) -> WooPage:
        records, headers = self.get_json(
            endpoint, {**params, "per_page": str(PAGE_SIZE), "page": str(page_number)}
        )
        if not isinstance(records, list):
            raise WooResponseError(f"The shop's {endpoint} list was not a list of records.")
        return WooPage(
            records=records,
            total=int(headers.get("X-WP-Total", len(records))),
            total_pages=int(headers.get("X-WP-TotalPages", 1)),
        )

    def get_json(self, endpoint: str, params: dict[str, str]) -> tuple[Any, httpx.Headers]:
        route = f"{API_NAMESPACE}/{endpoint}"
        response, data = self._get_with_retries(route, params)
        if not self._plain_permalinks and (
            (response.status_code == 404 and _no_route(response, data))
            or self._answers_with_a_page(route, response)
        ):
            response, data = self._try_plain_permalinks(route, params, response, data)
        if self._header_may_be_stripped(response, data):
            response, data = self._try_query_string_auth(route, params, response, data)
        if response.is_success:
            return data, response.headers
        raise self._explain_failure(route, response, data)

    def _header_may_be_stripped(self, response: httpx.Response, data: Any) -> bool:
        # An unknown key and a stripped Authorization header look the same: "cannot view".
        return (
            response.status_code == 401
            and self._https
            and not self._query_string_auth
            and _error_code(data) == "woocommerce_rest_cannot_view"
        )

    def _answers_with_a_page(self, route: str, response: httpx.Response) -> bool:
        """Plain permalinks: WordPress redirects /wp-json/<route> to the same address with a
        trailing slash, and that address shows the HTML home page. Neither the redirect nor
        the page is the shop living elsewhere."""
        if response.status_code not in (301, 302, 307, 308):
            return False
        page = f"{self.shop_url}/wp-json{route}/"
        location = urlsplit(response.headers.get("Location", ""))
        if location.path != urlsplit(page).path:
            return False
        try:
            # Asked bare (no key, no parameters): the Location may echo the secret.
            target = self._http.get(page)
        except httpx.HTTPError:
            return False
        return target.status_code == 200 and not _is_json(target)

    def _try_plain_permalinks(
        self, route: str, params: dict[str, str], response: httpx.Response, data: Any
    ) -> tuple[httpx.Response, Any]:
        self._plain_permalinks = True
        retried, retried_data = self._get_with_retries(route, params)
        if retried.status_code == 404 and _no_route(retried, retried_data):
            self._plain_permalinks = False
            if not _is_json(response):
                # Neither /wp-json/ nor ?rest_route= knows WooCommerce: the REST API is missing.
                raise WooResponseError(
                    f"{self.shop_url} has no WooCommerce REST API at /wp-json/ or ?rest_route=. "
                    "Check shop_url and that WooCommerce is active."
                )
            raise _NoSuchRoute(route)
        if retried.is_success:
            self._notify(
                "The shop does not answer at /wp-json/ (plain permalinks); "
                "using ?rest_route= instead. Nothing to change in the shop."
            )
        return retried, retried_data

    def _try_query_string_auth(
        self, route: str, params: dict[str, str], response: httpx.Response, data: Any
    ) -> tuple[httpx.Response, Any]:
        self._query_string_auth = True
        retried, retried_data = self._get_with_retries(route, params)
        if retried.is_success:
            self._notify(
                "The shop's web server drops the Authorization header; sending the API key "
                "as query parameters instead (over HTTPS)."
            )
            return retried, retried_data
        self._query_string_auth = False
        return retried, retried_data

    def _get_with_retries(self, route: str, params: dict[str, str]) -> tuple[httpx.Response, Any]:
        problem = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = self._send(route, params)
            except httpx.TimeoutException:
                problem = f"no answer within {self._timeout_seconds:g} s"
            except httpx.ConnectError as error:
                if _is_tls_problem(error):
                    raise WooUnavailableError(
                        f"The TLS certificate of {self._host} could not be verified. If the shop "
                        "uses a self-signed certificate, set woocommerce.ca_bundle to it."
                    ) from None
                problem = "the connection was refused or the host is unknown"
            except httpx.TransportError:
                problem = "the connection broke off"
            else:
                if response.status_code in RETRYABLE_STATUSES:
                    problem = f"HTTP {response.status_code}"
                    self._wait(attempt, _retry_after(response))
                    continue
                try:
                    return response, _decode(response)
                except _TruncatedJson:
                    problem = "the answer was cut off"
            self._wait(attempt, None)
        hint = (
            "Is the shop in maintenance mode?"
            if problem == "HTTP 503"
            else "Is the shop up and reachable from this machine?"
        )
        raise WooUnavailableError(
            f"The shop at {self._host} kept failing on {route} after {self._max_attempts} "
            f"attempts ({problem}). {hint}"
        )

    def _send(self, route: str, params: dict[str, str]) -> httpx.Response:
        self.request_count += 1
        if self._plain_permalinks:
            url, params = f"{self.shop_url}/", {"rest_route": route, **params}
            signed_url = self.shop_url
        else:
            url = signed_url = f"{self.shop_url}/wp-json{route}"
        if not self._https:
            # OAuth 1.0a: a signature travels, the secret never does.
            signed = signed_params(
                "GET", signed_url, params, consumer_key=self._key, consumer_secret=self._secret
            )
            return self._http.get(url, params=signed)
        refuse_secret_in_the_clear(url)
        if self._query_string_auth:
            credentials = {"consumer_key": self._key, "consumer_secret": self._secret}
            return self._http.get(url, params={**params, **credentials})
        return self._http.get(url, params=params, auth=(self._key, self._secret))

    def _wait(self, attempt: int, retry_after: float | None) -> None:
        if attempt >= self._max_attempts:
            return
        if retry_after is not None:
            delay = min(retry_after, self._max_backoff_seconds)
        else:
            capped = min(self._max_backoff_seconds, self._backoff_seconds * 2 ** (attempt - 1))
            delay = random.uniform(capped / 2, capped)  # jitter keeps workers from marching
        self._sleep(delay)

    @property
    def _host(self) -> str:
        return urlsplit(self.shop_url).netloc

    def _explain_failure(self, route: str, response: httpx.Response, data: Any) -> WooCommerceError:
        status = response.status_code
        if 300 <= status < 400:
            target = response.headers.get("Location", "")
            return WooResponseError(
                f"The shop redirects API requests to {target.split('?')[0]}; set shop_url "
                "to the address the shop really lives at (https, with or without www)."
            )
        if not isinstance(data, dict):
            return WooResponseError(f"The shop answered HTTP {status} on {route}.")
        code, message = data.get("code", ""), data.get("message", "")
        if self._plain_permalinks and status == 401 and code == "woocommerce_rest_cannot_view":
            return WooPlainPermalinksError(
                "The shop uses plain permalinks: /wp-json/ only shows its home page, and "
                "WooCommerce up to 11.0.x does not accept API keys at ?rest_route= (WooCommerce "
                f"issue #41191), so no key can work there. To fix it, {PLAIN_PERMALINKS_FIX}. "
                "(On WooCommerce 11.1 or later this answer means the shop does not know the "
                f"consumer key: check {self._key_variable}.)"
            )
        if status in (401, 403):
            return WooAuthenticationError(self._explain_authentication(code, message, status))
        return WooResponseError(f"The shop refused {route}: {message} ({code}, HTTP {status}).")

    def _explain_authentication(self, code: str, message: str, status: int) -> str:
        if "read permissions" in message:
            return (
                "The API key has no Read permission. In WooCommerce > Settings > Advanced > "
                "REST API, edit the key and choose Read/Write."
            )
        if message in (WRONG_SECRET, WRONG_SIGNATURE):
            advice = (
                "The consumer secret does not belong to this consumer key (check "
                f"{self._secret_variable}; it starts with cs_)."
            )
            if not self._https:
                advice += " Over plain HTTP, shop_url must also be the shop's WordPress address."
            return advice
        if message == "Invalid timestamp.":
            return "This machine's clock and the shop's differ by more than 15 minutes."
        if code == "woocommerce_rest_cannot_view" and status == 403:
            return (
                "The API key's WordPress user may not read orders; create the key for a "
                "shop manager or administrator."
            )
        if code == "woocommerce_rest_cannot_view" or message == "Consumer key is invalid.":
            return (
                f"The shop does not know this consumer key (check {self._key_variable}; it "
                "starts with ck_ and is created under WooCommerce > Settings > Advanced > "
                "REST API)."
            )
        return f"The shop refused the API key: {message} ({code})."


class _NoSuchRoute(WooCommerceError):
    pass


class _TruncatedJson(Exception):
    pass


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    if not _is_json(response) or response.content.lstrip()[:1] == b"<":
        if response.status_code == 404:
            return None
        raise WooResponseError(
            f"The shop answered with a web page instead of data (HTTP {response.status_code}). "
            "Likely causes: a security plugin or firewall blocking API requests, maintenance "
            "mode, or a caching proxy in front of the shop."
        )
    try:
        return response.json()
    except json.JSONDecodeError:
        raise _TruncatedJson from None


def refuse_secret_in_the_clear(url: str) -> None:
    """Basic auth and query-string keys carry the consumer secret itself: only ever over HTTPS,
    or over plain HTTP to this machine (a local test shop). Anything else is refused."""
    parts = urlsplit(url)
    if parts.scheme == "https" or _is_loopback(parts.hostname or ""):
        return
    raise WooAuthenticationError(
        f"Refusing to send the API key and secret unencrypted to {parts.netloc}: use an "
        "https:// shop_url (over plain HTTP the client signs requests with OAuth 1.0a instead)."
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("Content-Type", "")


def _no_route(response: httpx.Response, data: Any) -> bool:
    return data is None or _error_code(data) == "rest_no_route"


def _error_code(data: Any) -> str:
    return data.get("code", "") if isinstance(data, dict) else ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _is_tls_problem(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _id_list(ids: Iterable[int]) -> str:
    return ",".join(str(identifier) for identifier in ids)
