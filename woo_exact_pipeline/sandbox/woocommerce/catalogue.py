"""The demo shop's fixed master data: tax rates, products with variations, places and people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from woo_exact_pipeline.sandbox.woocommerce.documents import wc_dates

TAX_CLASSES = [
    {"slug": "standard", "name": "Standard"},
    {"slug": "reduced-rate", "name": "Reduced rate"},
    {"slug": "zero-rate", "name": "Zero rate"},
]

# (country, standard %, reduced %, label). The Netherlands is the shop's base; the others are
# OSS destinations. Ireland's 13.5% is the odd rate a typical VAT-code mapping lacks.
VAT_RATES: list[tuple[str, str, str, str]] = [
    ("NL", "21", "9", "BTW"),
    ("BE", "21", "6", "BTW"),
    ("DE", "19", "7", "MwSt."),
    ("FR", "20", "5.5", "TVA"),
    ("AT", "20", "10", "USt."),
    ("IT", "22", "10", "IVA"),
    ("ES", "21", "10", "IVA"),
    ("SE", "25", "12", "Moms"),
    ("IE", "23", "13.5", "VAT"),
]


def tax_rate_documents() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []

    def add(country: str, rate: str, label: str, tax_class: str) -> None:
        documents.append(
            {
                "id": len(documents) + 1,
                "country": country,
                "state": "",
                "postcode": "",
                "city": "",
                "postcodes": [],
                "cities": [],
                "rate": f"{Decimal(rate):.4f}",
                "name": f"{label} {rate}%",
                "priority": 1,
                "compound": False,
                # Every rate applies to shipping: a cart of coffee alone ships at the reduced rate.
                "shipping": True,
                "order": len(documents),
                "class": tax_class,
            }
        )

    for country, standard, reduced, label in VAT_RATES:
        add(country, standard, label, "standard")
        add(country, reduced, label, "reduced-rate")
    add("NL", "0", "BTW", "zero-rate")
    return documents


@dataclass(frozen=True)
class ProductSpec:
    name: str
    sku: str  # "" for the products the shop owner never gave a SKU
    price: str  # shelf price including 21%/9%/0% Dutch VAT
    tax_class: str  # "" standard, "reduced-rate", "zero-rate"
    category: str
    variations: tuple[tuple[str, str, str], ...] = ()  # (option, sku, price)
    attribute: str = ""
    popularity: int = 10


CATALOGUE: tuple[ProductSpec, ...] = (
    ProductSpec(
        "Koffiebonen Brazilië Santos 1 kg",
        "KB-BRA-1000",
        "18.95",
        "reduced-rate",
        "Koffie",
        popularity=40,
    ),
    ProductSpec(
        "Koffiebonen Ethiopië Yirgacheffe",
        "KB-ETH",
        "",
        "reduced-rate",
        "Koffie",
        variations=(
            ("250 g", "KB-ETH-250", "8.95"),
            ("500 g", "KB-ETH-500", "16.50"),
            ("1 kg", "KB-ETH-1000", "29.95"),
        ),
        attribute="Gewicht",
        popularity=30,
    ),
    ProductSpec(
        "Crème brûlée koffie ☕ – limited edition",
        "KB-CREME",
        "12.49",
        "reduced-rate",
        "Koffie",
        popularity=8,
    ),
    ProductSpec("Thee Earl Grey 100 g", "TH-EG-100", "6.75", "reduced-rate", "Thee", popularity=15),
    ProductSpec(
        "Rooibos Crème Caramel 80 g", "TH-RB-080", "5.95", "reduced-rate", "Thee", popularity=10
    ),
    ProductSpec(
        "Stroopwafels (8 stuks)", "ST-WAFEL-8", "3.29", "reduced-rate", "Lekkernijen", popularity=20
    ),
    ProductSpec(
        "Chocolade Extra Puur 72%", "", "2.89", "reduced-rate", "Lekkernijen", popularity=14
    ),
    ProductSpec(
        "Boek: De Perfecte Espresso", "BK-ESPRESSO", "24.99", "reduced-rate", "Boeken", popularity=5
    ),
    ProductSpec("Handkoffiemolen Keramisch", "MO-HAND-01", "49.95", "", "Zetten", popularity=9),
    ProductSpec("French Press 1 liter", "ZT-FP-1000", "34.50", "", "Zetten", popularity=8),
    ProductSpec("Moka pot 6 kops", "ZT-MOKA-6", "32.95", "", "Zetten", popularity=7),
    ProductSpec("Melkopschuimer Elektrisch", "ZT-MELK-01", "79.00", "", "Zetten", popularity=4),
    ProductSpec("Koffieweegschaal met timer", "ZT-WEEG-01", "39.99", "", "Zetten", popularity=5),
    ProductSpec("Filterpapier nr. 4 (100 stuks)", "", "4.49", "", "Zetten", popularity=18),
    ProductSpec(
        "Ontkalker voor espressomachines", "ON-KALK-01", "9.95", "", "Onderhoud", popularity=9
    ),
    ProductSpec("Espressokopjes set van 4", "SV-ESP-4", "24.95", "", "Servies", popularity=7),
    ProductSpec(
        "Thermosbeker",
        "SV-THERMO",
        "",
        "",
        "Servies",
        variations=(
            ("Zwart", "SV-THERMO-ZW", "19.95"),
            ("Salie groen", "", "19.95"),
            ("Roze", "SV-THERMO-RZ", "21.95"),
        ),
        attribute="Kleur",
        popularity=12,
    ),
    ProductSpec(
        "Barista schort",
        "KL-SCHORT",
        "",
        "",
        "Kleding",
        variations=(
            ("S", "KL-SCHORT-S", "29.95"),
            ("M", "KL-SCHORT-M", "29.95"),
            ("L", "KL-SCHORT-L", "29.95"),
        ),
        attribute="Maat",
        popularity=3,
    ),
    ProductSpec("Cadeaubon € 25", "CB-25", "25.00", "zero-rate", "Cadeaubonnen", popularity=4),
    ProductSpec("Cadeaubon € 50", "CB-50", "50.00", "zero-rate", "Cadeaubonnen", popularity=2),
)


def product_document(
    *,
    product_id: int,
    spec: ProductSpec,
    variation_ids: list[int],
    created: datetime,
    timezone: ZoneInfo,
    category_id: int,
) -> dict[str, Any]:
    local, gmt = wc_dates(created, timezone)
    slug = "".join(c if c.isalnum() else "-" for c in spec.name.lower()).strip("-")
    prices = [price for _, _, price in spec.variations] or [spec.price]
    price = min(prices, key=Decimal)
    variable = bool(spec.variations)
    return {
        "id": product_id,
        "name": spec.name,
        "slug": slug,
        "permalink": f"https://koffie.example/product/{slug}/",
        "date_created": local,
        "date_created_gmt": gmt,
        "date_modified": local,
        "date_modified_gmt": gmt,
        "type": "variable" if variable else "simple",
        "status": "publish",
        "featured": False,
        "catalog_visibility": "visible",
        "description": f"<p>{spec.name}</p>",
        "short_description": "",
        "sku": spec.sku,
        "price": price,
        "regular_price": "" if variable else spec.price,
        "sale_price": "",
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "on_sale": False,
        "purchasable": True,
        "total_sales": 0,
        "virtual": spec.tax_class == "zero-rate",
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": "",
        "button_text": "",
        "tax_status": "taxable",
        "tax_class": spec.tax_class,
        "manage_stock": False,
        "stock_quantity": None,
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
        "sold_individually": False,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_required": spec.tax_class != "zero-rate",
        "shipping_taxable": True,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": True,
        "average_rating": "0.00",
        "rating_count": 0,
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": 0,
        "purchase_note": "",
        "categories": [{"id": category_id, "name": spec.category, "slug": spec.category.lower()}],
        "tags": [],
        "images": [],
        "attributes": (
            [
                {
                    "id": 0,
                    "name": spec.attribute,
                    "slug": spec.attribute.lower(),
                    "position": 0,
                    "visible": True,
                    "variation": True,
                    "options": [option for option, _, _ in spec.variations],
                }
            ]
            if variable
            else []
        ),
        "default_attributes": [],
        "variations": variation_ids,
        "grouped_products": [],
        "menu_order": 0,
        "price_html": "",
        "related_ids": [],
        "meta_data": [],
        "stock_status": "instock",
        "has_options": variable,
        "post_password": "",
        "global_unique_id": "",
    }


def variation_document(
    *,
    variation_id: int,
    parent: dict[str, Any],
    attribute: str,
    option: str,
    sku: str,
    price: str,
) -> dict[str, Any]:
    return {
        "id": variation_id,
        "type": "variation",
        "date_created": parent["date_created"],
        "date_created_gmt": parent["date_created_gmt"],
        "date_modified": parent["date_modified"],
        "date_modified_gmt": parent["date_modified_gmt"],
        "description": "",
        "permalink": f"{parent['permalink']}?attribute_{attribute.lower()}={option}",
        # An empty variation SKU falls back to the parent's in the REST output.
        "sku": sku or parent["sku"],
        "global_unique_id": "",
        "price": price,
        "regular_price": price,
        "sale_price": "",
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "on_sale": False,
        "status": "publish",
        "purchasable": True,
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "tax_status": "taxable",
        "tax_class": parent["tax_class"],
        "manage_stock": "parent",
        "stock_quantity": None,
        "stock_status": "instock",
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_class": "",
        "shipping_class_id": 0,
        "image": None,
        "attributes": [{"id": 0, "name": attribute, "slug": attribute.lower(), "option": option}],
        "menu_order": 0,
        "meta_data": [],
        # WooCommerce 11 names a variation by its options; order lines and /products/{id}
        # put the parent's name in front (the recorded shop's variation 21: "L").
        "name": option,
        "parent_id": parent["id"],
    }


def variation_as_product(variation: dict[str, Any], parent: dict[str, Any]) -> dict[str, Any]:
    """A variation asked at /products/{id}: WooCommerce answers with it in the product shape,
    named after parent and options, with the product-only fields at a variation's values
    (`total_sales` then comes as the string "0")."""
    options = [attribute["option"] for attribute in variation.get("attributes") or []]
    image = variation.get("image")
    product_only = {
        "slug": "-".join([parent.get("slug", ""), *(option.lower() for option in options)]),
        "featured": False,
        "catalog_visibility": "visible",
        "short_description": "",
        "total_sales": "0",
        "external_url": "",
        "button_text": "",
        "sold_individually": False,
        "shipping_required": not variation.get("virtual", False),
        "shipping_taxable": variation.get("tax_status") in ("taxable", "shipping"),
        "reviews_allowed": False,
        "average_rating": "0.00",
        "rating_count": 0,
        "upsell_ids": [],
        "cross_sell_ids": [],
        "purchase_note": "",
        "categories": [],
        "tags": [],
        "brands": [],
        "images": [image] if image else [],
        "default_attributes": [],
        "variations": [],
        "grouped_products": [],
        "price_html": parent.get("price_html", ""),
        "related_ids": [],
        "has_options": False,
        "post_password": "",
    }
    shared = {
        key: value
        for key, value in variation.items()
        if key not in ("image", "gallery_image_ids", "_links")
    }
    return {
        **shared,
        **product_only,
        "name": variation_line_name(parent, variation),
        "parent_id": parent["id"],
    }


def variation_line_name(parent: dict[str, Any], variation: dict[str, Any]) -> str:
    """ "T-shirt Grachten - L": the parent's name and the variation's options, as order lines
    and `/products/{variation id}` name a variation."""
    options = [attribute["option"] for attribute in variation.get("attributes") or []]
    return " - ".join([parent.get("name", ""), *options]) if options else parent.get("name", "")


@dataclass(frozen=True)
class Place:
    country: str
    city: str
    postcode: str
    street: str
    state: str = ""
    phone_prefix: str = ""


PLACES: dict[str, tuple[Place, ...]] = {
    "NL": (
        Place("NL", "Amsterdam", "1012 AB", "Damrak", phone_prefix="+31 6"),
        Place("NL", "Utrecht", "3511 LX", "Oudegracht", phone_prefix="+31 6"),
        Place("NL", "Groningen", "9711 LM", "Vismarkt", phone_prefix="+31 6"),
        Place("NL", "'s-Hertogenbosch", "5211 HA", "Markt", phone_prefix="+31 6"),
        Place("NL", "Leeuwarden", "8911 BK", "Nieuwestad", phone_prefix="+31 6"),
    ),
    "BE": (
        Place("BE", "Gent", "9000", "Korenmarkt", phone_prefix="+32 4"),
        Place("BE", "Liège", "4000", "Place Saint-Lambert", phone_prefix="+32 4"),
    ),
    "DE": (
        Place("DE", "Köln", "50667", "Hohe Straße", phone_prefix="+49 151"),
        Place("DE", "München", "80331", "Marienplatz", phone_prefix="+49 160"),
    ),
    "FR": (Place("FR", "Lille", "59000", "Rue de Béthune", phone_prefix="+33 6"),),
    "AT": (Place("AT", "Wien", "1010", "Kärntner Straße", phone_prefix="+43 664"),),
    "IT": (Place("IT", "Milano", "20121", "Via Dante", state="MI", phone_prefix="+39 347"),),
    "ES": (Place("ES", "Barcelona", "08002", "Carrer de Ferran", state="B", phone_prefix="+34 6"),),
    "SE": (Place("SE", "Göteborg", "411 18", "Kungsgatan", phone_prefix="+46 70"),),
    "IE": (Place("IE", "Dublin", "D02 X285", "Grafton Street", state="D", phone_prefix="+353 87"),),
    "US": (
        Place("US", "New York", "10001", "W 34th St", state="NY", phone_prefix="+1 212"),
        Place("US", "San Francisco", "94103", "Market St", state="CA", phone_prefix="+1 415"),
    ),
    "CH": (Place("CH", "Zürich", "8001", "Bahnhofstrasse", phone_prefix="+41 79"),),
    "GB": (Place("GB", "London", "SW1A 1AA", "Whitehall", phone_prefix="+44 7700"),),
    "NO": (Place("NO", "Oslo", "0150", "Karl Johans gate", phone_prefix="+47 412"),),
    "JP": (Place("JP", "Tokyo", "150-0001", "Jingumae", state="JP13", phone_prefix="+81 90"),),
}

FIRST_NAMES = (
    "Sanne",
    "Daan",
    "Zoë",
    "Daniël",
    "Chloë",
    "Bram",
    "Anouk",
    "Joël",
    "Noë",
    "Ruben",
    "Fleur",
    "Émilie",
    "Lars",
    "Sophie",
    "Thijs",
    "Inès",
    "Jürgen",
    "François",
    "Siobhán",
    "Björn",
    "Lotte 🌷",
    "Mila",
    "Sem",
    "Julia",
    "Finn",
    "Saar",
    "Luuk",
    "Eline",
    "Aoife",
    "Ståle",
)
LAST_NAMES = (
    "de Vries",
    "van den Berg",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Dijk",
    "Dekker",
    "Brouwer",
    "Müller",
    "Dubois",
    "García",
    "Ó Briain",
    "Lindström",
    "Kovač",
    "D'Hondt",
    "van 't Hek",
)
COMPANIES: dict[str, tuple[tuple[str, str], ...]] = {
    # country -> (company name, VAT number) for EU business customers (reverse charge)
    "BE": (
        ("Koffiebranderij De Gouden Boon BV", "BE0458123789"),
        ("Brasserie ☕ Het Pakhuis", "BE0712345675"),
    ),
    "DE": (
        ("Rösterei Müller & Söhne GmbH", "DE811234567"),
        ("Café Kännchen UG (haftungsbeschränkt)", "DE298765432"),
    ),
    "FR": (("Torréfaction Lefèvre SARL", "FR40303265045"),),
    "AT": (("Kaffeehaus Zum Schwarzen Kameel GmbH", "ATU12345678"),),
}
LONG_COMPANY = (
    "Stichting Vrienden van het Historisch Koffie- en Theemuseum Noord-Holland, Friesland en "
    "Omstreken B.V. i.o."
)


@dataclass
class CustomerProfile:
    """A person or business that buys; registered ones are also a WooCommerce customer."""

    first_name: str
    last_name: str
    email: str
    place: Place
    phone: str
    house_number: str
    company: str = ""
    vat_number: str = ""
    customer_id: int = 0
    extra_meta: list[tuple[str, Any]] = field(default_factory=list)

    def billing(self) -> dict[str, Any]:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "company": self.company,
            "address_1": f"{self.place.street} {self.house_number}",
            "address_2": "",
            "city": self.place.city,
            "state": self.place.state,
            "postcode": self.place.postcode,
            "country": self.place.country,
            "email": self.email,
            "phone": self.phone,
        }

    def shipping(self) -> dict[str, Any]:
        billing = self.billing()
        billing.pop("email")
        return billing


def customer_document(
    profile: CustomerProfile, *, registered: datetime, timezone: ZoneInfo, meta_ids: list[int]
) -> dict[str, Any]:
    local, gmt = wc_dates(registered, timezone)
    meta = [
        {"id": meta_id, "key": key, "value": value}
        for meta_id, (key, value) in zip(meta_ids, profile.extra_meta, strict=True)
    ]
    return {
        "id": profile.customer_id,
        "date_created": local,
        "date_created_gmt": gmt,
        "date_modified": local,
        "date_modified_gmt": gmt,
        "email": profile.email,
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "role": "customer",
        "username": profile.email.split("@")[0],
        "billing": profile.billing(),
        "shipping": profile.shipping(),
        "is_paying_customer": True,
        "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g",
        "meta_data": meta,
    }
