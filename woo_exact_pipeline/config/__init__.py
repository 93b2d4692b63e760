"""The `sync.yaml` model and how it is read: one package, a module per idea.

- `values`: the environment variables, the choices a setting allows, single-value checks;
- `model`: the settings, one `SyncConfig` per shop (`SeveralShops` for a `shops:` file);
- `load`: reading a file, every problem at once (`ConfigError`);
- `credentials`: a shop's secrets as values, read by `credentials_for` (the CLI's resolver);
- `reference`: the settings reference of the README.

Secrets never live in the file; they come from the environment variables listed in
`ENVIRONMENT_VARIABLES` (or, per shop, those its `credentials:` names).
"""

from woo_exact_pipeline.config.credentials import (
    ALERT_VARIABLES,
    SECRET_KEY_VARIABLE,
    AlertSecrets,
    ExactSecrets,
    Secret,
    ShopSecrets,
    WooCommerceSecrets,
    alert_secrets_for,
    credentials_for,
)
from woo_exact_pipeline.config.load import (
    ConfigError,
    choose_shop,
    default_config_path,
    load_config,
    load_shops,
    parse_config,
    parse_shops,
)
from woo_exact_pipeline.config.model import (
    AlertSettings,
    AutomationSettings,
    EmailAlerts,
    ExactItems,
    ExactSettings,
    GlMapping,
    ReportPeriod,
    ReportSettings,
    SeveralShops,
    ShopCredentials,
    ShopEntry,
    SlackAlerts,
    SyncConfig,
    VatMapping,
    WebhookAlerts,
    WooCommerceSettings,
)
from woo_exact_pipeline.config.reference import (
    config_reference_markdown,
)
from woo_exact_pipeline.config.values import (
    DEFAULT_VAT_NUMBER_META_KEYS,
    ENVIRONMENT_VARIABLES,
    ClosedPeriodPolicy,
    Code,
    CountryCode,
    DocumentNumberSource,
    EnvironmentVariable,
    EuConsumerVatRegime,
    ExactCountry,
    InsertionType,
    InvoiceStatus,
    OrderStatus,
    Percentage,
    ShopName,
    TimeZoneName,
)

__all__ = [
    "ALERT_VARIABLES",
    "DEFAULT_VAT_NUMBER_META_KEYS",
    "ENVIRONMENT_VARIABLES",
    "SECRET_KEY_VARIABLE",
    "AlertSecrets",
    "AlertSettings",
    "AutomationSettings",
    "ClosedPeriodPolicy",
    "Code",
    "ConfigError",
    "CountryCode",
    "DocumentNumberSource",
    "EmailAlerts",
    "EnvironmentVariable",
    "EuConsumerVatRegime",
    "ExactCountry",
    "ExactItems",
    "ExactSecrets",
    "ExactSettings",
    "GlMapping",
    "InsertionType",
    "InvoiceStatus",
    "OrderStatus",
    "Percentage",
    "ReportPeriod",
    "ReportSettings",
    "Secret",
    "SeveralShops",
    "ShopCredentials",
    "ShopEntry",
    "ShopName",
    "ShopSecrets",
    "SlackAlerts",
    "SyncConfig",
    "TimeZoneName",
    "VatMapping",
    "WebhookAlerts",
    "WooCommerceSecrets",
    "WooCommerceSettings",
    "alert_secrets_for",
    "choose_shop",
    "config_reference_markdown",
    "credentials_for",
    "default_config_path",
    "load_config",
    "load_shops",
    "parse_config",
    "parse_shops",
]
