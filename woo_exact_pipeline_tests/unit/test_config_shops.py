"""sync.yaml with several shops: each shop is read as a one-shop file would be, with its own
name, credentials and administration, and what two shops may not share is refused."""

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from woo_exact_pipeline.cli import main
from woo_exact_pipeline.config import (
    ConfigError,
    ExactSecrets,
    Secret,
    WooCommerceSecrets,
    credentials_for,
    load_config,
    load_shops,
    parse_shops,
)

REPO = Path(__file__).resolve().parents[2]
AGENCY_EXAMPLE = REPO / "sync.shops.example.yaml"


def agency(**changes_per_shop: dict) -> dict:
    """The agency example as data, with `changes_per_shop[name]` merged into that shop."""
    data = yaml.safe_load(AGENCY_EXAMPLE.read_text(encoding="utf-8"))
    for shop in data["shops"]:
        for section, values in changes_per_shop.get(shop["name"], {}).items():
            if isinstance(values, dict):
                shop[section] = {**shop.get(section, {}), **values}
            else:
                shop[section] = values
    return data


def problems_of(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_shops(yaml.safe_dump(data))
    return raised.value.problems


def test_the_agency_example_reads_as_two_shops_in_their_own_administrations() -> None:
    fietsen, boeken = load_shops(AGENCY_EXAMPLE)
    assert (fietsen.name, fietsen.shop_key, fietsen.exact.division) == (
        "fietsen",
        "fietsen.example.nl",
        3102026,
    )
    assert (boeken.name, boeken.shop_key, boeken.exact.division) == (
        "boeken",
        "boeken.example.be",
        4711,
    )
    assert boeken.woocommerce.time_zone == "Europe/Brussels"
    assert boeken.exact.api_base_url == "https://start.exactonline.be"
    assert fietsen.credentials.woo_consumer_key == "FIETSEN_WOO_CONSUMER_KEY"
    # Not named: the default variable.
    assert fietsen.credentials.exact_client_id == "EXACT_CLIENT_ID"
    assert boeken.credentials.exact_client_id == "BOEKEN_EXACT_CLIENT_ID"


def test_a_shop_without_alerts_of_its_own_uses_the_files_and_one_with_replaces_them() -> None:
    fietsen, boeken = load_shops(AGENCY_EXAMPLE)
    assert boeken.alerts.email.to == ["ops@agency.example.nl"]
    assert fietsen.alerts.email.to == ["boekhouding@fietsen.example.nl", "ops@agency.example.nl"]
    assert fietsen.automation == boeken.automation


def test_a_one_shop_file_is_one_shop_without_a_name() -> None:
    [shop] = load_shops(REPO / "sync.example.yaml")
    assert shop.name is None
    assert shop.label == shop.shop_key == "shop.example.nl"


def test_one_shop_of_several_is_chosen_by_name_and_a_missing_choice_says_which_exist() -> None:
    assert load_config(AGENCY_EXAMPLE, shop="boeken").shop_key == "boeken.example.be"
    with pytest.raises(ConfigError) as raised:
        load_config(AGENCY_EXAMPLE)
    assert raised.value.problems == [
        "it has several shops (fietsen, boeken); choose one with --shop"
    ]
    with pytest.raises(ConfigError) as raised:
        load_config(AGENCY_EXAMPLE, shop="fietsenn")
    assert raised.value.problems == ["no shop is named 'fietsenn'; its shops: fietsen, boeken"]


def test_every_problem_names_the_shop_by_its_place_in_the_list() -> None:
    data = agency(
        fietsen={"exact": {"divison": 12}},
        boeken={"name": "Boeken!", "credentials": {"woo_consumer_key": "boeken key"}},
    )
    problems = problems_of(data)
    assert problems[0].startswith(
        "shops[0].exact.divison: unknown setting 'divison'; allowed here: country, base_url"
    )
    assert problems[1].startswith("shops[1].name: 'Boeken!' is not a shop name: use up to 40")
    assert problems[2] == (
        "shops[1].credentials.woo_consumer_key: 'boeken key' is not the name of an environment "
        "variable, such as WOO_CONSUMER_KEY_SHOP2 (the secret itself never goes in sync.yaml)"
    )
    assert len(problems) == 3


def test_a_shop_in_a_list_needs_a_name() -> None:
    data = agency()
    del data["shops"][1]["name"]
    assert problems_of(data) == ["shops[1].name: required setting is missing"]


def test_two_shops_never_share_a_name_an_address_or_woocommerce_keys() -> None:
    data = agency(
        boeken={
            "name": "fietsen",
            "woocommerce": {"shop_url": "https://fietsen.example.nl"},
            "credentials": {
                "woo_consumer_key": "FIETSEN_WOO_CONSUMER_KEY",
                "woo_consumer_secret": "FIETSEN_WOO_CONSUMER_SECRET",
            },
        }
    )
    assert problems_of(data) == [
        "shops[1].name: 'fietsen' is already that of shops[0]; every shop has its own",
        "shops[1].woocommerce.shop_url: 'https://fietsen.example.nl' is already that of "
        "shops[0]; every shop has its own",
        "shops[1].credentials.woo_consumer_key: 'FIETSEN_WOO_CONSUMER_KEY' is already that of "
        "shops[0]; every shop has its own",
        "shops[1].credentials.woo_consumer_secret: 'FIETSEN_WOO_CONSUMER_SECRET' is already "
        "that of shops[0]; every shop has its own",
    ]


def test_shops_share_an_administration_only_in_journals_of_their_own() -> None:
    same_administration = {"country": "nl", "division": 3102026}
    assert len(parse_shops(yaml.safe_dump(agency(boeken={"exact": same_administration})))) == 2
    data = agency(boeken={"exact": {**same_administration, "sales_journal": "70"}})
    assert problems_of(data) == [
        "shops[1].exact.sales_journal: '70' is already the journal of shops[0] in "
        "administration 3102026; each shop books into a journal of its own"
    ]
    data = agency(boeken={"exact": {**same_administration, "insertion_type": "sales_order"}})
    assert problems_of(data) == [
        "shops[1].exact.insertion_type: sales orders have no journal, so they cannot share "
        "administration 3102026 with another shop"
    ]
    # The same division number on another country's Exact is another administration.
    assert len(parse_shops(yaml.safe_dump(agency(boeken={"exact": {"division": 3102026}})))) == 2


def test_a_shops_secrets_are_read_from_the_variables_it_names_and_no_other() -> None:
    boeken = load_config(AGENCY_EXAMPLE, shop="boeken")
    secrets = credentials_for(
        boeken,
        {
            "WOO_CONSUMER_KEY": "ck_of_another_shop",
            "BOEKEN_WOO_CONSUMER_KEY": "ck_boeken",
            "BOEKEN_WOO_CONSUMER_SECRET": "cs_boeken",
            "BOEKEN_EXACT_CLIENT_ID": "boeken-app",
            "EXACT_CLIENT_SECRET": "secret of the default app",
            "WOO_EXACT_SECRET_KEY": "shared key",
        },
    )
    assert secrets.woocommerce == WooCommerceSecrets(
        Secret("BOEKEN_WOO_CONSUMER_KEY", "ck_boeken"),
        Secret("BOEKEN_WOO_CONSUMER_SECRET", "cs_boeken"),
    )
    assert secrets.exact == ExactSecrets(
        Secret("BOEKEN_EXACT_CLIENT_ID", "boeken-app"),
        # BOEKEN_EXACT_CLIENT_SECRET is not set: the default app's secret is not used instead.
        Secret("BOEKEN_EXACT_CLIENT_SECRET", ""),
        Secret("WOO_EXACT_SECRET_KEY", "shared key"),
    )
    assert secrets.exact.client_secret.missing
    assert "ck_boeken" not in repr(secrets) and "shared key" not in repr(secrets)


def test_config_check_lists_every_shop_and_commands_ask_which_shop() -> None:
    runner = CliRunner()
    checked = runner.invoke(main, ["config", "check", "--config", str(AGENCY_EXAMPLE)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines()[1:] == [
        "  fietsen: https://fietsen.example.nl -> Exact administration 3102026, journal 70, "
        "booked as sales_entry.",
        "  boeken: https://boeken.example.be -> Exact administration 4711, journal 71, "
        "booked as sales_invoice.",
    ]
    unchosen = runner.invoke(main, ["status", "--config", str(AGENCY_EXAMPLE)])
    assert unchosen.exit_code == 1
    assert "it has several shops (fietsen, boeken); choose one with --shop" in unchosen.output
