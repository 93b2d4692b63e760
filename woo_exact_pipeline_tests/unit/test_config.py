"""sync.yaml: the example is valid, and every broken file says exactly what is wrong."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from woo_exact_pipeline.cli import main
from woo_exact_pipeline.config import (
    ENVIRONMENT_VARIABLES,
    ConfigError,
    config_reference_markdown,
    load_config,
    parse_config,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = (REPO / "sync.example.yaml").read_text(encoding="utf-8")


def broken(*replacements: tuple[str, str]) -> str:
    text = EXAMPLE
    for old, new in replacements:
        assert old in text, f"the example no longer contains {old!r}"
        text = text.replace(old, new)
    return text


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    return raised.value.problems


def test_the_example_file_is_valid_and_read_as_a_bookkeeper_means_it() -> None:
    settings = load_config(REPO / "sync.example.yaml")
    assert settings.woocommerce.booking_statuses == ["processing", "completed"]
    assert settings.woocommerce.time_zone == "Europe/Amsterdam"
    assert settings.exact.vat_mapping.domestic == {
        Decimal("21"): "2",
        Decimal("9"): "1",
        Decimal("0"): "4",
    }
    assert settings.exact.vat_mapping.oss["FR"][Decimal("5.5")] == "FRM"
    assert settings.exact.rounding_tolerance == Decimal("0.02")
    assert settings.exact.api_base_url == "https://start.exactonline.nl"


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        (
            [("insertion_type: sales_entry", "insertion_type: invoice")],
            "exact.insertion_type: 'invoice' is not allowed; choose one of "
            "sales_entry, sales_invoice, sales_order or direct_sales_invoice",
        ),
        (
            [("booking_statuses: [processing, completed]", "booking_statuses: [processing, paid]")],
            "woocommerce.booking_statuses[1]: 'paid' is not allowed; choose one of pending, "
            "processing, on-hold, completed, cancelled, refunded or failed",
        ),
        (
            [("time_zone: Europe/Amsterdam", "time_zone: Europe/Amsterdm")],
            "woocommerce.time_zone: 'Europe/Amsterdm' is not a known time zone; "
            "use an IANA name such as Europe/Amsterdam",
        ),
        (
            [("export_orders_from: 2026-01-01", "export_orders_from: 1 january")],
            "woocommerce.export_orders_from: '1 january' is not a date; write it as YYYY-MM-DD",
        ),
        (
            [('rounding_tolerance: "0.02"', 'rounding_tolerance: "two cents"')],
            "exact.rounding_tolerance: 'two cents' is not a number",
        ),
        (
            [("  division: 3102026", "  divison: 3102026")],
            "exact.division: required setting is missing",
        ),
        (
            [('domestic: {21: "8000"', 'domestic: {121: "8000"')],
            "exact.gl_mapping.domestic[121]: 121 is not a VAT percentage between 0 and 100",
        ),
        (
            [("shop_country: NL", "shop_country: Nederland")],
            "woocommerce.shop_country: 'Nederland' is not a two-letter country code "
            "such as NL or DE",
        ),
        (
            [('oss_revenue_gl: "8110"', "oss_revenue_gl:")],
            "exact: oss_revenue_gl is required when eu_consumer_vat_regime is 'oss'; "
            "set it, or choose shop_country_vat",
        ),
        (
            [("shop_url: https://shop.example.nl", "shop_url: shop.example.nl")],
            "woocommerce.shop_url: 'shop.example.nl' is not a web address starting with https://",
        ),
    ],
)
def test_a_broken_setting_is_named_with_its_path_value_and_what_is_allowed(
    replacements: list[tuple[str, str]], expected: str
) -> None:
    assert expected in problems_of(broken(*replacements))


def test_an_unknown_setting_is_an_error_that_lists_the_known_ones() -> None:
    problems = problems_of(broken(("  sales_journal:", "  sales_jornal:")))
    assert len(problems) == 1
    assert problems[0].startswith(
        "exact.sales_jornal: unknown setting 'sales_jornal'; allowed here: country, base_url,"
    )
    assert "sales_journal" in problems[0]


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    problems = problems_of(
        broken(
            ("insertion_type: sales_entry", "insertion_type: invoice"),
            ("time_zone: Europe/Amsterdam", "time_zone: Mars/Olympus"),
            ("email_invoices: false", "email_invoices: sometimes"),
        )
    )
    assert problems == [
        "woocommerce.time_zone: 'Mars/Olympus' is not a known time zone; "
        "use an IANA name such as Europe/Amsterdam",
        "exact.insertion_type: 'invoice' is not allowed; choose one of "
        "sales_entry, sales_invoice, sales_order or direct_sales_invoice",
        "exact.email_invoices: 'sometimes' is not yes/no (true or false)",
    ]


def test_a_file_that_is_not_yaml_points_at_the_line() -> None:
    assert problems_of("woocommerce:\n  shop_url: [unclosed\n") == [
        "line 3, column 1: not valid YAML (expected ',' or ']', but got '<stream end>')"
    ]


def test_a_missing_file_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"copy sync\.example\.yaml"):
        load_config(tmp_path / "sync.yaml")


def test_the_cli_reports_problems_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "sync.yaml"
    config.write_text(broken(("insertion_type: sales_entry", "insertion_type: invoice")))
    result = CliRunner().invoke(main, ["config", "check", "--config", str(config)])
    assert result.exit_code == 1
    assert "exact.insertion_type: 'invoice' is not allowed" in result.output
    assert "Traceback" not in result.output


def test_the_readme_documents_every_setting_exactly_as_the_model_defines_it() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert config_reference_markdown() in readme, (
        "README's configuration reference is out of date: "
        "paste the output of `woo-exact config reference`"
    )


def test_env_example_names_every_environment_variable_and_no_secret_is_a_setting() -> None:
    listed = re.findall(r"^([A-Z_]+)=", (REPO / ".env.example").read_text(), flags=re.M)
    assert listed == list(ENVIRONMENT_VARIABLES)
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|", config_reference_markdown(), flags=re.M)
    assert len(rows) > 40
    # credentials.* name the variables that hold a shop's secrets, never the secrets.
    assert {kind.strip() for name, kind in rows if name.startswith("credentials.")} == {
        "variable name"
    }
    settings = [name for name, _ in rows if not name.startswith("credentials.")]
    secret_words = ("secret", "password", "consumer_key", "token")
    assert [s for s in settings if any(word in s for word in secret_words)] == []
