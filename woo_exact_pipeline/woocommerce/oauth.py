"""OAuth 1.0a one-legged signatures, as WooCommerce checks them over plain HTTP.

WooCommerce signs every query parameter (not only the oauth_* ones), encodes keys and values
with PHP's rawurlencode, encodes each `key=value` pair a second time and joins the pairs with
`%26`. The base URL is the shop's home URL plus the request path, without the query string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from urllib.parse import quote


def rfc3986(value: str) -> str:
    """PHP's rawurlencode: only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return quote(value, safe="-_.~")


def signature_base_string(method: str, base_url: str, params: Mapping[str, str]) -> str:
    # WooCommerce sorts the raw keys byte-wise (PHP strcmp) before encoding them.
    pairs = sorted(params.items(), key=lambda pair: pair[0].encode())
    joined = "%26".join(rfc3986(f"{rfc3986(key)}={rfc3986(value)}") for key, value in pairs)
    return f"{method.upper()}&{rfc3986(base_url)}&{joined}"


def sign(method: str, base_url: str, params: Mapping[str, str], consumer_secret: str) -> str:
    algorithm = params["oauth_signature_method"]
    digest = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}[algorithm]
    key = f"{consumer_secret}&".encode()
    message = signature_base_string(method, base_url, params).encode()
    return base64.b64encode(hmac.new(key, message, digest).digest()).decode()


def signed_params(
    method: str,
    base_url: str,
    params: Mapping[str, str],
    *,
    consumer_key: str,
    consumer_secret: str,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The request's query parameters plus the oauth_* ones and the signature."""
    signed = {
        **params,
        "oauth_consumer_key": consumer_key,
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA256",
    }
    signed["oauth_signature"] = sign(method, base_url, signed, consumer_secret)
    return signed
