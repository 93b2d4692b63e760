"""WC_REST_Authentication: Basic / query-string keys over HTTPS, OAuth 1.0a over plain HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

# WooCommerce's own formats: "ck_" / "cs_" followed by 40 hex characters.
DEFAULT_CONSUMER_KEY = "ck_5a4f1e8b3c2d7e6f9a0b1c2d3e4f5a6b7c8d9e0f"
DEFAULT_CONSUMER_SECRET = "cs_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
READ_ONLY_CONSUMER_KEY = "ck_0123456789abcdef0123456789abcdef01234567"
READ_ONLY_CONSUMER_SECRET = "cs_76543210fedcba9876543210fedcba9876543210"

OAUTH_WINDOW_SECONDS = 15 * 60
OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)


@dataclass(frozen=True)
class ApiKey:
    consumer_key: str
    consumer_secret: str
    permissions: str  # read | write | read_write
    user_id: int = 1


class AuthError(Exception):
    """An authentication failure with WooCommerce's code, message and status."""

    def __init__(self, code: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass
class KeyStore:
    keys: dict[str, ApiKey] = field(default_factory=dict)
    _nonces: dict[str, dict[str, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, key: ApiKey) -> None:
        self.keys[key.consumer_key] = key

    def remember_nonce(self, consumer_key: str, nonce: str, timestamp: int) -> None:
        """check_oauth_timestamp_and_nonce: a nonce may be used once per 15 minutes."""
        now = int(time.time())
        with self._lock:
            used = self._nonces.setdefault(consumer_key, {})
            for old_nonce, used_at in list(used.items()):
                if used_at < now - OAUTH_WINDOW_SECONDS:
                    del used[old_nonce]
            if nonce in used:
                raise AuthError(
                    "woocommerce_rest_authentication_error",
                    "Invalid nonce - nonce has already been used.",
                )
            used[nonce] = timestamp


def rfc3986(value: str) -> str:
    """wc_rest_urlencode_rfc3986: rawurlencode with only A-Za-z0-9-_.~ left as is."""
    return quote(value, safe="-_.~")


def _flatten(params: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    """PHP arrays (`status[]=a`) are signed as `status[0]=a`."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, list):
            pairs.extend((f"{key}[{index}]", item) for index, item in enumerate(value))
        else:
            pairs.append((key, value))
    return pairs


def oauth_signature(
    *,
    method: str,
    base_url: str,
    params: dict[str, str | list[str]],
    consumer_secret: str,
    signature_method: str,
) -> str:
    """check_oauth_signature's string to sign and HMAC, with every parameter but the signature."""
    pairs = sorted(
        ((key, value) for key, value in _flatten(params) if key != "oauth_signature"),
        key=lambda pair: pair[0].encode(),
    )
    joined = "%26".join(rfc3986(f"{rfc3986(key)}={rfc3986(value)}") for key, value in pairs)
    string_to_sign = f"{method.upper()}&{rfc3986(base_url)}&{joined}"
    digest = hashlib.sha256 if signature_method == "HMAC-SHA256" else hashlib.sha1
    signature = hmac.new(f"{consumer_secret}&".encode(), string_to_sign.encode(), digest).digest()
    return base64.b64encode(signature).decode()


def parse_oauth_header(header: str) -> dict[str, str]:
    """`Authorization: OAuth oauth_consumer_key="...", ...` (realm ignored)."""
    params: dict[str, str] = {}
    for part in header[len("OAuth ") :].split(","):
        if "=" not in part:
            continue
        key, value = part.strip().split("=", 1)
        if key.startswith("oauth_"):
            params[key] = unquote(value.strip('"'))
    return params


def authenticate(
    *,
    keys: KeyStore,
    is_ssl: bool,
    method: str,
    base_url: str,
    params: dict[str, str | list[str]],
    authorization: str | None,
) -> ApiKey | None:
    """The key the request authenticates as; None when unauthenticated (no error yet).

    Over HTTPS keys in the query or Basic auth come first; without a known key WooCommerce
    still tries OAuth, the only way over plain HTTP."""
    if is_ssl:
        key_value = params.get("consumer_key")
        secret_value = params.get("consumer_secret")
        if not isinstance(key_value, str) or not isinstance(secret_value, str):
            key_value, secret_value = _basic_credentials(authorization)
        key = keys.keys.get(key_value) if key_value is not None else None
        if key is not None:
            if not hmac.compare_digest(key.consumer_secret, secret_value or ""):
                raise AuthError(
                    "woocommerce_rest_authentication_error", "Consumer secret is invalid."
                )
            return key
    return _oauth(keys=keys, method=method, base_url=base_url, params=params, header=authorization)


def _basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    if not authorization or not authorization.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(authorization[6:].strip()).decode()
    except ValueError:
        return None, None
    user, _, password = decoded.partition(":")
    return user, password


def _oauth(
    *,
    keys: KeyStore,
    method: str,
    base_url: str,
    params: dict[str, str | list[str]],
    header: str | None,
) -> ApiKey | None:
    signed = dict(params)
    if header and header.startswith("OAuth "):
        signed.update(parse_oauth_header(header))
    present = [name for name in OAUTH_PARAMS if isinstance(signed.get(name), str)]
    if not present:
        return None
    missing = [name for name in OAUTH_PARAMS if name not in present]
    if missing:
        raise AuthError(
            "woocommerce_rest_authentication_missing_parameter",
            "Missing OAuth parameter(s) " + ", ".join(missing),
        )
    key = keys.keys.get(str(signed["oauth_consumer_key"]))
    if key is None:
        raise AuthError("woocommerce_rest_authentication_error", "Consumer key is invalid.")
    signature_method = str(signed["oauth_signature_method"])
    if signature_method not in ("HMAC-SHA1", "HMAC-SHA256"):
        raise AuthError(
            "woocommerce_rest_authentication_error",
            "Invalid signature - signature method is invalid.",
        )
    expected = oauth_signature(
        method=method,
        base_url=base_url,
        params=signed,
        consumer_secret=key.consumer_secret,
        signature_method=signature_method,
    )
    provided = unquote(str(signed["oauth_signature"]).replace(" ", "+"))
    if not hmac.compare_digest(expected, provided):
        raise AuthError(
            "woocommerce_rest_authentication_error",
            "Invalid signature - provided signature does not match.",
        )
    try:
        timestamp = int(str(signed["oauth_timestamp"]))
    except ValueError:
        timestamp = -1
    now = int(time.time())
    if not now - OAUTH_WINDOW_SECONDS <= timestamp <= now + OAUTH_WINDOW_SECONDS:
        raise AuthError("woocommerce_rest_authentication_error", "Invalid timestamp.")
    keys.remember_nonce(key.consumer_key, str(signed["oauth_nonce"]), timestamp)
    return key


def check_permissions(key: ApiKey, method: str) -> None:
    """check_permissions: reading needs read access, writing needs write access."""
    if method in ("HEAD", "GET"):
        if key.permissions not in ("read", "read_write"):
            raise AuthError(
                "woocommerce_rest_authentication_error",
                "The API key provided does not have read permissions.",
            )
    elif method in ("POST", "PUT", "PATCH", "DELETE"):
        if key.permissions not in ("write", "read_write"):
            raise AuthError(
                "woocommerce_rest_authentication_error",
                "The API key provided does not have write permissions.",
            )
    elif method != "OPTIONS":
        raise AuthError("woocommerce_rest_authentication_error", "Unknown request method.")
