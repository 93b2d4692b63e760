"""TLS contexts shared per process: building one reads the whole CA bundle (about 25 ms of CPU),
and every run opens several HTTP clients. A context is safe to share between clients and
threads; it is read-only once made."""

from __future__ import annotations

import ssl
from functools import cache

import certifi


@cache
def tls_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """Certificates checked against `ca_bundle`, or against the bundle httpx trusts by default
    (certifi's)."""
    return ssl.create_default_context(cafile=ca_bundle or certifi.where())


def verification(verify: bool | str) -> ssl.SSLContext | bool:
    """httpx's `verify=` for a setting that is True (check), False (don't) or a CA file."""
    if verify is False:
        return False
    return tls_context(verify if isinstance(verify, str) else None)
