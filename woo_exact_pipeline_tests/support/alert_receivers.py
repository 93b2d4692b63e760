"""Local receivers for the alert channels: an SMTP server, a webhook and Slack's Web API."""

import base64
import json
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from woo_exact_pipeline.alerts.channels import (
    SIGNATURE_HEADER,
    sign,
)
from woo_exact_pipeline.config import AlertSecrets, SyncConfig
from woo_exact_pipeline.sandbox.server import BackgroundServer
from woo_exact_pipeline_tests.support.cli import (  # noqa: F401  (cli_fixture: the fixture)
    Cli,
    cli_fixture,
)

SMTP_PASSWORD = "smtp-password-never-shown"


SLACK_TOKEN = "xoxb-slack-token-never-shown"


WEBHOOK_SECRET = "webhook-secret-never-shown"


SECRETS = (SMTP_PASSWORD, SLACK_TOKEN, WEBHOOK_SECRET)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    server: "_SmtpServer"

    def _reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self._reply("220 localhost test SMTP")
        while True:
            line = self.rfile.readline().decode().rstrip("\r\n")
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._reply("250-localhost")
                self._reply("250 AUTH PLAIN")
            elif verb == "AUTH":
                _, user, password = base64.b64decode(line.split()[2]).decode().split("\0")
                self.server.logins.append((user, password))
                self._reply("235 accepted")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 go on")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    data += self.rfile.readline()
                self.server.messages.append(message_from_bytes(data[: -len(b".\r\n")]))
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages: list[Message] = []
        self.logins: list[tuple[str, str]] = []


@dataclass
class Receivers:
    smtp: _SmtpServer
    web: BackgroundServer
    webhook_calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    slack_calls: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    @property
    def environ(self) -> dict[str, str]:
        return {
            "WOO_EXACT_SMTP_HOST": "127.0.0.1",
            "WOO_EXACT_SMTP_PORT": str(self.smtp.server_address[1]),
            "WOO_EXACT_SMTP_USER": "alerts@shop.example.nl",
            "WOO_EXACT_SMTP_PASSWORD": SMTP_PASSWORD,
            "WOO_EXACT_SLACK_TOKEN": SLACK_TOKEN,
            "WOO_EXACT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }

    @property
    def secrets(self) -> AlertSecrets:
        return AlertSecrets.of(self.environ)

    def settings(self, base: SyncConfig, **alerts: Any) -> SyncConfig:
        """`base` with every channel pointed at these receivers."""
        channels = {
            "email": {
                "to": ["owner@shop.example.nl"],
                "sender": "woo-exact@shop.example.nl",
                "starttls": False,
            },
            "slack": {"channel": "#webshop", "api_url": f"{self.web.url}/slack/api/"},
            "webhook": {"url": f"{self.web.url}/hooks/T0/secret-path"},
        }
        return base.model_validate({**base.model_dump(), "alerts": {**channels, **alerts}})

    def webhook_payloads(self) -> list[dict[str, Any]]:
        """Every webhook body, after checking its signature as a receiver must."""
        payloads = []
        for headers, body in self.webhook_calls:
            assert headers[SIGNATURE_HEADER.lower()] == f"sha256={sign(WEBHOOK_SECRET, body)}"
            payloads.append(json.loads(body))
        return payloads

    def everything_sent(self) -> str:
        mails = [m.as_string() for m in self.smtp.messages]
        slack = [json.dumps(body) for _, body in self.slack_calls]
        hooks = [body.decode() + json.dumps(headers) for headers, body in self.webhook_calls]
        return "\n".join(mails + slack + hooks)

    def titles(self) -> dict[str, list[str]]:
        """Per channel, the titles of what arrived, in order."""
        return {
            "email": [str(m["Subject"]).split("] ", 1)[1] for m in self.smtp.messages],
            "slack": [
                body["text"].split("\n", 1)[0].split("* ", 1)[1] for _, body in self.slack_calls
            ],
            "webhook": [payload["title"] for payload in self.webhook_payloads()],
        }


def _web_app(receivers_calls: tuple[list, list]) -> Starlette:
    webhook_calls, slack_calls = receivers_calls

    async def hook(request: Request) -> Response:
        webhook_calls.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    async def slack(request: Request) -> Response:
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(raw)
        else:
            body = dict(parse_qsl(raw.decode()))
        slack_calls.append((dict(request.headers), body))
        return JSONResponse({"ok": True, "channel": "C1", "ts": "1.0"})

    return Starlette(
        routes=[
            Route("/hooks/T0/secret-path", hook, methods=["POST"]),
            Route("/slack/api/chat.postMessage", slack, methods=["POST"]),
        ]
    )


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    smtp = _SmtpServer()
    thread = threading.Thread(target=smtp.serve_forever, daemon=True)
    thread.start()
    webhook_calls: list = []
    slack_calls: list = []
    web = BackgroundServer(_web_app((webhook_calls, slack_calls))).start()
    try:
        yield Receivers(smtp, web, webhook_calls, slack_calls)
    finally:
        web.stop()
        smtp.shutdown()
        smtp.server_close()
