"""Exact's OAuth2 as the sandbox serves it: the code flow and every way a token is refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from woo_exact_pipeline.sandbox.exact import (
    DEFAULT_CLIENT_ID,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    ExactSandbox,
    SandboxClock,
)


def _code_from(response: httpx.Response) -> str:
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


def _token(sandbox: ExactSandbox, **form: str) -> httpx.Response:
    body = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret, **form}
    return httpx.post(f"{sandbox.base_url}/api/oauth2/token", data=body)


def _exchange(sandbox: ExactSandbox, code: str) -> httpx.Response:
    return _token(
        sandbox, grant_type="authorization_code", code=code, redirect_uri=sandbox.redirect_uri
    )


def _refresh(sandbox: ExactSandbox, refresh_token: str) -> httpx.Response:
    return _token(sandbox, grant_type="refresh_token", refresh_token=refresh_token)


def _me(sandbox: ExactSandbox, access_token: str) -> httpx.Response:
    return httpx.get(
        f"{sandbox.base_url}/api/v1/current/Me",
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
    )


def test_consent_page_asks_the_user_to_sign_in(exact_sandbox: ExactSandbox) -> None:
    page = httpx.get(exact_sandbox.authorize_url("xyz"))
    assert page.status_code == 200
    assert "password" in page.text and 'name="state" value="xyz"' in page.text


def test_signing_in_redirects_with_code_and_state(exact_sandbox: ExactSandbox) -> None:
    form = {
        "client_id": exact_sandbox.client_id,
        "redirect_uri": exact_sandbox.redirect_uri,
        "response_type": "code",
        "state": "xyz",
        "username": SANDBOX_USERNAME,
        "password": SANDBOX_PASSWORD,
    }
    answer = httpx.post(f"{exact_sandbox.base_url}/api/oauth2/auth", data=form)
    location = answer.headers["location"]
    assert location.startswith(exact_sandbox.redirect_uri + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz"]
    assert "!" in query["code"][0]  # Exact's codes carry a "!" that must be URL-decoded


def test_wrong_password_is_refused_on_the_consent_page(exact_sandbox: ExactSandbox) -> None:
    form = {
        "client_id": exact_sandbox.client_id,
        "redirect_uri": exact_sandbox.redirect_uri,
        "username": SANDBOX_USERNAME,
        "password": "guess",
    }
    answer = httpx.post(f"{exact_sandbox.base_url}/api/oauth2/auth", data=form)
    assert answer.status_code == 401
    assert "location" not in answer.headers


@pytest.mark.parametrize(
    ("client_id", "redirect_uri"),
    [("00000000-0000-0000-0000-000000000000", None), (None, "https://evil.example/cb")],
)
def test_unknown_client_or_redirect_uri_never_redirects(
    exact_sandbox: ExactSandbox, client_id: str | None, redirect_uri: str | None
) -> None:
    params = {
        "client_id": client_id or exact_sandbox.client_id,
        "redirect_uri": redirect_uri or exact_sandbox.redirect_uri,
        "response_type": "code",
        "auto_approve": "true",
    }
    answer = httpx.get(f"{exact_sandbox.base_url}/api/oauth2/auth", params=params)
    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_client_id_with_braces_as_app_center_shows_it(exact_sandbox: ExactSandbox) -> None:
    params = {
        "client_id": "{" + DEFAULT_CLIENT_ID.upper() + "}",
        "redirect_uri": exact_sandbox.redirect_uri,
        "response_type": "code",
        "auto_approve": "true",
    }
    answer = httpx.get(f"{exact_sandbox.base_url}/api/oauth2/auth", params=params)
    assert answer.status_code == 302


def test_code_exchange_gives_tokens_with_expires_in_as_a_string(
    exact_sandbox: ExactSandbox,
) -> None:
    code = _code_from(httpx.get(exact_sandbox.authorize_url(auto_approve=True)))
    answer = _exchange(exact_sandbox, code)
    assert answer.status_code == 200
    tokens = answer.json()
    assert tokens["expires_in"] == "600"
    assert tokens["token_type"].lower() == "bearer"
    assert _me(exact_sandbox, tokens["access_token"]).status_code == 200


def test_code_is_single_use(exact_sandbox: ExactSandbox) -> None:
    code = _code_from(httpx.get(exact_sandbox.authorize_url(auto_approve=True)))
    assert _exchange(exact_sandbox, code).status_code == 200
    again = _exchange(exact_sandbox, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"


def test_code_expires_after_three_minutes(
    exact_sandbox: ExactSandbox, exact_clock: SandboxClock
) -> None:
    code = _code_from(httpx.get(exact_sandbox.authorize_url(auto_approve=True)))
    exact_clock.advance(minutes=3, seconds=1)
    assert _exchange(exact_sandbox, code).status_code == 400


def test_wrong_client_secret_is_refused(exact_sandbox: ExactSandbox) -> None:
    code = _code_from(httpx.get(exact_sandbox.authorize_url(auto_approve=True)))
    answer = httpx.post(
        f"{exact_sandbox.base_url}/api/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": exact_sandbox.redirect_uri,
            "client_id": exact_sandbox.client_id,
            "client_secret": "not-the-secret",
        },
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_refresh_rotates_and_the_old_refresh_token_is_dead(
    exact_sandbox: ExactSandbox, exact_clock: SandboxClock, exact_tokens: dict[str, str]
) -> None:
    exact_clock.advance(seconds=570)
    first = _refresh(exact_sandbox, exact_tokens["refresh_token"])
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != exact_tokens["refresh_token"]
    assert rotated["expires_in"] == "600"

    exact_clock.advance(seconds=600)
    reused = _refresh(exact_sandbox, exact_tokens["refresh_token"])
    assert reused.status_code == 401
    assert reused.json() == {
        "error": "unauthorized_client",
        "error_description": "Old refresh token used.",
    }
    assert _refresh(exact_sandbox, rotated["refresh_token"]).status_code == 200


def test_refresh_within_570_seconds_is_too_early(
    exact_sandbox: ExactSandbox, exact_clock: SandboxClock, exact_tokens: dict[str, str]
) -> None:
    exact_clock.advance(seconds=569)
    early = _refresh(exact_sandbox, exact_tokens["refresh_token"])
    assert early.status_code == 400
    assert early.json()["error"] == "access_denied"
    assert early.headers["Reason"].startswith("TooEarlyToRefreshTokens")
    # A refused refresh does not burn the refresh token.
    exact_clock.advance(seconds=1)
    assert _refresh(exact_sandbox, exact_tokens["refresh_token"]).status_code == 200


def test_refresh_token_unused_for_30_days_expires(
    exact_sandbox: ExactSandbox, exact_clock: SandboxClock, exact_tokens: dict[str, str]
) -> None:
    exact_clock.advance(days=30)
    answer = _refresh(exact_sandbox, exact_tokens["refresh_token"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert answer.json()["error_description"].startswith("The refresh token expired at 4/1/2026")


def test_refresh_token_used_within_30_days_keeps_the_chain_alive(
    exact_sandbox: ExactSandbox, exact_clock: SandboxClock, exact_tokens: dict[str, str]
) -> None:
    exact_clock.advance(days=29)
    rotated = _refresh(exact_sandbox, exact_tokens["refresh_token"]).json()
    exact_clock.advance(days=29)
    assert _refresh(exact_sandbox, rotated["refresh_token"]).status_code == 200


def test_unknown_refresh_token_and_grant_type(exact_sandbox: ExactSandbox) -> None:
    assert _refresh(exact_sandbox, "Gcp7!made-up").status_code == 400
    assert _token(exact_sandbox, grant_type="client_credentials").json() == {
        "error": "unsupported_grant_type"
    }


def test_token_endpoint_wants_a_form_body(exact_sandbox: ExactSandbox) -> None:
    answer = httpx.post(
        f"{exact_sandbox.base_url}/api/oauth2/token", json={"grant_type": "refresh_token"}
    )
    assert answer.status_code == 400


def test_access_token_expires_after_600_seconds(
    exact_sandbox: ExactSandbox, exact_clock: SandboxClock, exact_tokens: dict[str, str]
) -> None:
    exact_clock.advance(seconds=599)
    assert _me(exact_sandbox, exact_tokens["access_token"]).status_code == 200
    exact_clock.advance(seconds=1)
    assert _me(exact_sandbox, exact_tokens["access_token"]).status_code == 401
    division_call = httpx.get(
        f"{exact_sandbox.api_url}/financial/Journals",
        headers={"Authorization": f"Bearer {exact_tokens['access_token']}"},
    )
    assert division_call.status_code == 401


def test_unknown_or_missing_token_gets_401(exact_sandbox: ExactSandbox) -> None:
    assert _me(exact_sandbox, "AAEAAmade-up").status_code == 401
    assert httpx.get(f"{exact_sandbox.api_url}/financial/Journals").status_code == 401


def test_previous_access_token_is_revoked_by_a_refresh(
    exact_sandbox: ExactSandbox, exact_clock: SandboxClock, exact_tokens: dict[str, str]
) -> None:
    exact_clock.advance(seconds=580)
    rotated = _refresh(exact_sandbox, exact_tokens["refresh_token"]).json()
    assert _me(exact_sandbox, exact_tokens["access_token"]).status_code == 401
    assert _me(exact_sandbox, rotated["access_token"]).status_code == 200


def test_me_names_the_current_division(exact_sandbox: ExactSandbox, exact_tokens: dict) -> None:
    me = _me(exact_sandbox, exact_tokens["access_token"]).json()["d"]["results"][0]
    assert me["CurrentDivision"] == exact_sandbox.division
    assert me["UserName"] == SANDBOX_USERNAME
    assert me["__metadata"]["type"] == "Exact.Web.Api.Models.System.Me"


def test_at_most_200_token_calls_a_day(
    exact_sandbox: ExactSandbox, exact_clock: SandboxClock
) -> None:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": "Gcp7!made-up",
        "client_id": exact_sandbox.client_id,
        "client_secret": exact_sandbox.client_secret,
    }
    with httpx.Client(base_url=exact_sandbox.base_url) as http:
        for _ in range(200):
            assert http.post("/api/oauth2/token", data=form).status_code == 400
    code = _code_from(httpx.get(exact_sandbox.authorize_url(auto_approve=True)))
    refused = _exchange(exact_sandbox, code)
    assert refused.status_code == 400
    assert refused.json()["error"] == "access_denied"
    exact_clock.advance(hours=15)  # past 00:00 UTC
    code = _code_from(httpx.get(exact_sandbox.authorize_url(auto_approve=True)))
    assert _exchange(exact_sandbox, code).status_code == 200
