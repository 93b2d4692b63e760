"""Where a shop's secrets come from: the environment variables its `credentials:` names."""

from __future__ import annotations

import os
from collections.abc import Mapping

from woo_exact_pipeline.config.model import ShopCredentials, SyncConfig


def shop_environment(
    settings: SyncConfig, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment as the clients read it (WOO_CONSUMER_KEY, EXACT_CLIENT_ID, ...), with
    the variables this shop's `credentials:` names standing in for those names."""
    source = os.environ if environ is None else environ
    environment = dict(source)
    for setting, variable in settings.credentials:
        standard = ShopCredentials.model_fields[setting].default
        environment.pop(standard, None)
        if variable in source:
            environment[standard] = source[variable]
    return environment
