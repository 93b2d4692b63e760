"""OAuth 1.0a signatures exactly as WooCommerce computes them over plain HTTP."""

from woo_exact_pipeline.woocommerce.oauth import sign, signature_base_string

# The test vector of the shared WooCommerce reference (section 1.3).
PARAMS = {
    "per_page": "100",
    "page": "2",
    "modified_after": "2024-01-01T00:00:00",
    "dates_are_gmt": "true",
    "oauth_consumer_key": "ck_test",
    "oauth_timestamp": "1700000000",
    "oauth_nonce": "abcdef0123456789abcdef0123456789",
    "oauth_signature_method": "HMAC-SHA256",
}
URL = "http://example.com/wp-json/wc/v3/orders"


def test_every_query_parameter_is_signed_sorted_and_encoded_twice() -> None:
    assert signature_base_string("GET", URL, PARAMS) == (
        "GET&http%3A%2F%2Fexample.com%2Fwp-json%2Fwc%2Fv3%2Forders&dates_are_gmt%3Dtrue"
        "%26modified_after%3D2024-01-01T00%253A00%253A00%26oauth_consumer_key%3Dck_test"
        "%26oauth_nonce%3Dabcdef0123456789abcdef0123456789"
        "%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1700000000"
        "%26page%3D2%26per_page%3D100"
    )


def test_hmac_sha256_and_sha1_signatures_match_woocommerce() -> None:
    assert sign("GET", URL, PARAMS, "cs_test") == "A4sLD697nq+DNFEJM4H+ZgwmyMuDqeNRgXvQHL7gs+A="
    sha1 = {**PARAMS, "oauth_signature_method": "HMAC-SHA1"}
    assert sign("GET", URL, sha1, "cs_test") == "0ve85ZA08QuBpSm2Kqjazx94cAU="


def test_a_slash_in_a_value_is_escaped_as_php_rawurlencode_does() -> None:
    # The official Python client leaves "/" unescaped and fails on ?rest_route= shops.
    base = signature_base_string("GET", "http://example.com", {"rest_route": "/wc/v3/orders"})
    assert base == "GET&http%3A%2F%2Fexample.com&rest_route%3D%252Fwc%252Fv3%252Forders"
