"""`woo-exact mappings suggest`: the sandbox shop's tax rates matched to the sandbox
administration's VAT codes and revenue accounts; what matches nothing is listed."""

from collections import Counter
from decimal import Decimal

import yaml

from woo_exact_pipeline.config import SyncConfig, load_config
from woo_exact_pipeline.mappings import ExactGlAccount, ExactVatCode, suggest_mappings
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.cli import Cli, cli_fixture  # noqa: F401

pytestmark = SQLITE_ONLY


def test_the_sandbox_codes_are_proposed_and_the_block_is_valid_settings(cli: Cli) -> None:
    done = cli.run("mappings", "suggest", "--config", str(cli.config))
    assert done.returncode == 0, done.stderr
    block = yaml.safe_load(done.stdout)
    vat, gl = block["vat_mapping"], block["gl_mapping"]
    assert vat["domestic"] == {21: "2", 9: "1", 0: "4"}
    assert vat["oss"]["DE"] == {19: "DEH", 7: "DEL"}
    assert vat["oss"]["FR"] == {20: "FRH", 5.5: "FRM"}
    assert vat["oss"]["IE"] == {23: "IEH", 13.5: "IEL"}
    assert "NL" not in vat["oss"]
    assert (vat["reverse_charge"], vat["export"]) == ("7", "6")
    assert gl == {
        "domestic": {21: "8000", 9: "8010", 0: "8020"},
        "reverse_charge": "8100",
        "export": "8200",
    }
    assert "NOT MATCHED" not in done.stdout
    # The shop's orders (fewer than a page) by currency, the administration's own first.
    counted = Counter(order.document()["currency"] for order in cli.woo.shop.orders.values())
    assert len(counted) > 1 and counted.total() <= 100
    by_use = sorted(counted, key=lambda code: (-counted[code], code))
    assert block["currencies"] == ["EUR", *(code for code in by_use if code != "EUR")]
    assert f"# the latest {counted.total()} orders: EUR {counted['EUR']}, " in done.stdout
    # Pasted under exact:, the block is settings the model accepts.
    settings = yaml.safe_load(cli.config.read_text(encoding="utf-8"))
    settings["exact"] |= block
    SyncConfig.model_validate(settings)


def vat(code: str, percent: str, country: str | None = None, listing: str = "N") -> ExactVatCode:
    return ExactVatCode(
        code=code,
        description=f"{code} {percent}%",
        percent=Decimal(percent),
        type="E" if percent != "0" else "B",
        for_sales=True,
        oss_country=country,
        eu_sales_listing=listing,
    )


def test_rates_without_a_fitting_code_are_listed_not_guessed() -> None:
    settings = load_config()  # the suite's settings: shop in NL, OSS regime
    tax_rates = [
        {"id": 1, "country": "NL", "rate": "21.0000"},
        {"id": 2, "country": "ES", "rate": "4.0000"},
        {"id": 3, "country": "US", "rate": "8.8750"},
    ]
    block = suggest_mappings(
        settings,
        tax_rates,
        [vat("2", "21"), vat("2B", "21"), vat("ESH", "21", "ES"), vat("7", "0", listing="L")],
        [ExactGlAccount("8000", "Omzet hoog", "2")],
        Counter({"EUR": 3}),
    )
    proposed = yaml.safe_load(block)
    assert proposed["vat_mapping"]["domestic"] == {21: "2"}
    assert "check: also 2B" in block
    assert proposed["vat_mapping"]["oss"] == {}
    assert proposed["vat_mapping"]["reverse_charge"] == "7"
    assert "export" not in proposed["vat_mapping"]
    assert "#   vat_mapping.oss.ES 4%: no sales VAT code with OSS country ES and 4%" in block
    assert "#   vat_mapping.export: no 0% sales VAT code recognisably for it" in block
    assert "#   gl_mapping.reverse_charge: no revenue account has VAT code 7" in block
    # A US rate needs no mapping: exports take the export code whatever the shop charged.
    assert "US" not in block


def test_the_currencies_of_the_latest_orders_follow_the_administrations_own() -> None:
    block = suggest_mappings(load_config(), [], [], [], Counter({"USD": 3, "EUR": 96, "GBP": 1}))
    assert (
        'currencies: ["EUR", "USD", "GBP"]  # the latest 100 orders: EUR 96, USD 3, GBP 1; '
        "each other currency needs exchange rates in Exact"
    ) in block.splitlines()
