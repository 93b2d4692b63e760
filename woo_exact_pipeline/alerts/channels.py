"""Delivering notices: e-mail (SMTP), Slack (dagster-slack) and a signed JSON webhook.

Which channels are on is set in sync.yaml (`alerts:`); their secrets arrive as values
(`config.AlertSecrets`, from the `AlertChannels` resource or the CLI's resolver) and never
appear in a message, a log line or an error: errors name the channel and what failed (an SMTP
code, Slack's error name, an HTTP status), never a credential or a webhook's path, which often
is a credential itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import urlsplit

import httpx
from dagster_slack import SlackResource
from slack_sdk.errors import SlackApiError, SlackClientError

from woo_exact_pipeline.alerts.model import Notice
from woo_exact_pipeline.config import AlertSecrets, Secret, SyncConfig

SIGNATURE_HEADER = "X-Woo-Exact-Signature"
EVENT_HEADER = "X-Woo-Exact-Event"
DEFAULT_SMTP_PORT = 587
TIMEOUT_SECONDS = 30


class AlertDeliveryError(Exception):
    """A channel could not deliver; the message names the channel, never a secret."""


class Channel(Protocol):
    name: str

    def describe(self) -> str: ...

    def send(self, notice: Notice, *, shop: str, now: datetime) -> None: ...


def _required(secret: Secret, channel: str) -> str:
    if secret.missing:
        raise AlertDeliveryError(f"{channel}: environment variable {secret.variable} is not set")
    return secret.value


@dataclass(frozen=True)
class EmailChannel:
    to: tuple[str, ...]
    sender: str
    starttls: bool
    secrets: AlertSecrets
    name: str = "email"

    def _server(self) -> tuple[str, int]:
        host = _required(self.secrets.smtp_host, "e-mail")
        port = self.secrets.smtp_port.value or str(DEFAULT_SMTP_PORT)
        if not port.isdigit():
            raise AlertDeliveryError(
                f"e-mail: {self.secrets.smtp_port.variable} {port!r} is not a port number"
            )
        return host, int(port)

    def describe(self) -> str:
        recipients = ", ".join(self.to)
        try:
            host, port = self._server()
        except AlertDeliveryError as error:
            return f"e-mail to {recipients}: not usable, {error}"
        user = self.secrets.smtp_user.value
        login = f", login as {user}" if user else ", no login"
        tls = "STARTTLS" if self.starttls else "no TLS"
        return f"e-mail to {recipients} from {self.sender} via {host}:{port} ({tls}{login})"

    def send(self, notice: Notice, *, shop: str, now: datetime) -> None:
        host, port = self._server()
        message = EmailMessage()
        message["Subject"] = f"[woo-exact {shop}] {notice.title}"
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        message.set_content(notice.text)
        user = self.secrets.smtp_user.value
        try:
            with smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if user:
                    smtp.login(user, self.secrets.smtp_password.value)
                smtp.send_message(message)
        except smtplib.SMTPResponseException as error:
            raise AlertDeliveryError(
                f"e-mail via {host}:{port}: the server answered {error.smtp_code} "
                f"({type(error).__name__})"
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise AlertDeliveryError(
                f"e-mail via {host}:{port} failed ({type(error).__name__})"
            ) from None


@dataclass(frozen=True)
class SlackChannel:
    channel: str
    api_url: str
    token: Secret
    name: str = "slack"

    def describe(self) -> str:
        if self.token.missing:
            return f"Slack {self.channel}: not usable, {self.token.variable} is not set"
        return f"Slack {self.channel} via {_origin(self.api_url)}"

    def send(self, notice: Notice, *, shop: str, now: datetime) -> None:
        token = _required(self.token, "Slack")
        client = SlackResource(token=token).get_client()
        # dagster-slack builds slack_sdk's WebClient; its address is Slack's unless set.
        client.base_url = self.api_url if self.api_url.endswith("/") else f"{self.api_url}/"
        client.timeout = TIMEOUT_SECONDS
        try:
            client.chat_postMessage(channel=self.channel, text=f"*{shop}* {notice.text}")
        except SlackApiError as error:
            raise AlertDeliveryError(
                f"Slack {self.channel}: Slack answered {error.response.get('error', 'an error')}"
            ) from None
        except (SlackClientError, OSError) as error:
            raise AlertDeliveryError(
                f"Slack {self.channel}: {_origin(self.api_url)} could not be reached "
                f"({type(error).__name__})"
            ) from None


@dataclass(frozen=True)
class WebhookChannel:
    url: str
    secret: Secret
    name: str = "webhook"

    def describe(self) -> str:
        if self.secret.missing:
            return f"webhook to {_origin(self.url)}: not usable, {self.secret.variable} is not set"
        return f"webhook to {_origin(self.url)} (JSON, signed with HMAC-SHA256)"

    def send(self, notice: Notice, *, shop: str, now: datetime) -> None:
        secret = _required(self.secret, "webhook")
        body = json.dumps(notice.to_json(shop, now), sort_keys=True).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: f"sha256={sign(secret, body)}",
            EVENT_HEADER: notice.status,
        }
        where = _origin(self.url)
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
        except httpx.HTTPError as error:
            raise AlertDeliveryError(
                f"webhook to {where} could not be reached ({type(error).__name__})"
            ) from None
        if response.status_code >= 300:
            raise AlertDeliveryError(f"webhook to {where} answered HTTP {response.status_code}")


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the request body: what a receiver recomputes to trust a message."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _origin(url: str) -> str:
    # Webhook and API paths often carry a credential: only scheme, host and port are shown.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def configured_channels(settings: SyncConfig, secrets: AlertSecrets) -> list[Channel]:
    """The channels sync.yaml switches on, with their secrets."""
    alerts = settings.alerts
    channels: list[Channel] = []
    if alerts.email.to and alerts.email.sender:
        channels.append(
            EmailChannel(
                tuple(alerts.email.to), alerts.email.sender, alerts.email.starttls, secrets
            )
        )
    if alerts.slack.channel:
        channels.append(
            SlackChannel(alerts.slack.channel, alerts.slack.api_url, secrets.slack_token)
        )
    if alerts.webhook.url:
        channels.append(WebhookChannel(alerts.webhook.url, secrets.webhook_secret))
    return channels


def describe_alert_channels(settings: SyncConfig, secrets: AlertSecrets) -> list[str]:
    """One line per configured channel (for `woo-exact doctor`), without any secret."""
    return [channel.describe() for channel in configured_channels(settings, secrets)] or [
        "no alert channel configured (alerts: email, slack or webhook in sync.yaml)"
    ]


def send_test_message(settings: SyncConfig, channel: str, secrets: AlertSecrets) -> None:
    """Send a test message through one channel (`email`, `slack` or `webhook`).

    Raises AlertDeliveryError with the reason when the channel is not configured or fails.
    """
    found = {c.name: c for c in configured_channels(settings, secrets)}
    if channel not in found:
        raise AlertDeliveryError(
            f"{channel}: not configured in sync.yaml; configured: {', '.join(found) or 'none'}"
        )
    notice = Notice(
        "test",
        "Test message",
        ("woo-exact alerts reach this channel. Nothing is wrong.",),
    )
    found[channel].send(notice, shop=settings.shop_key, now=datetime.now(UTC))
