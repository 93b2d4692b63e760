"""Local receivers for the alert channels (an SMTP server, a webhook, Slack's Web API) and the
channels' own tests: delivery, the webhook signature, and no secret in any message."""

import dagster as dg
import pytest
import yaml

from woo_exact_pipeline.alerts.channels import (
    SIGNATURE_HEADER,
    AlertDeliveryError,
    describe_alert_channels,
    send_test_message,
    sign,
)
from woo_exact_pipeline.config import AlertSecrets, SyncConfig, load_config
from woo_exact_pipeline.defs.resources import AlertChannels
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.alert_receivers import (
    SECRETS,
    SLACK_TOKEN,
    SMTP_PASSWORD,
    WEBHOOK_SECRET,
    Receivers,
)
from woo_exact_pipeline_tests.support.cli import (  # noqa: F401  (cli_fixture: the fixture)
    Cli,
    cli_fixture,
)

pytestmark = SQLITE_ONLY


def test_a_test_message_reaches_every_channel_signed_and_without_a_secret(
    receivers: Receivers,
) -> None:
    settings = receivers.settings(load_config())
    for channel in ("email", "slack", "webhook"):
        send_test_message(settings, channel, receivers.secrets)

    [mail] = receivers.smtp.messages
    assert mail["To"] == "owner@shop.example.nl"
    assert mail["Subject"] == "[woo-exact shop.example.nl] Test message"
    assert receivers.smtp.logins == [("alerts@shop.example.nl", SMTP_PASSWORD)]
    [(headers, body)] = receivers.slack_calls
    assert body["channel"] == "#webshop"
    assert headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    [payload] = receivers.webhook_payloads()
    assert payload["event"] == "test" and payload["shop"] == "shop.example.nl"
    sent = receivers.everything_sent().replace(f"Bearer {SLACK_TOKEN}", "")
    assert not [secret for secret in SECRETS if secret in sent]


def test_a_forged_or_altered_webhook_fails_the_signature_check(receivers: Receivers) -> None:
    settings = receivers.settings(load_config())
    send_test_message(settings, "webhook", receivers.secrets)
    [(headers, body)] = receivers.webhook_calls
    assert headers[SIGNATURE_HEADER.lower()] != f"sha256={sign('another secret', body)}"
    altered = body.replace(b"Test message", b"Test massage")
    assert headers[SIGNATURE_HEADER.lower()] != f"sha256={sign(WEBHOOK_SECRET, altered)}"


def test_doctor_lines_describe_each_channel_without_secrets(receivers: Receivers) -> None:
    settings = receivers.settings(load_config())
    lines = describe_alert_channels(settings, receivers.secrets)
    assert len(lines) == 3
    assert lines[0].startswith("e-mail to owner@shop.example.nl from woo-exact@shop.example.nl")
    assert lines[1].startswith("Slack #webshop via http://127.0.0.1:")
    assert lines[2].startswith("webhook to http://127.0.0.1:")
    text = "\n".join(lines)
    assert "secret-path" not in text
    assert not [secret for secret in SECRETS if secret in text]
    missing = describe_alert_channels(settings, AlertSecrets.of({}))
    assert "WOO_EXACT_SMTP_HOST is not set" in missing[0]
    assert "WOO_EXACT_SLACK_TOKEN is not set" in missing[1]
    assert "WOO_EXACT_WEBHOOK_SECRET is not set" in missing[2]
    assert describe_alert_channels(load_config(), AlertSecrets.of({})) == [
        "no alert channel configured (alerts: email, slack or webhook in sync.yaml)"
    ]


def test_a_channel_that_fails_says_which_and_why_without_its_secret(
    receivers: Receivers,
) -> None:
    settings = receivers.settings(load_config())
    broken = {**receivers.environ, "WOO_EXACT_SMTP_PORT": "1"}  # nothing listens there
    with pytest.raises(AlertDeliveryError, match=r"e-mail via 127\.0\.0\.1:1 failed") as error:
        send_test_message(settings, "email", AlertSecrets.of(broken))
    assert SMTP_PASSWORD not in str(error.value)
    with pytest.raises(AlertDeliveryError, match="not configured"):
        send_test_message(load_config(), "slack", receivers.secrets)
    unreachable = receivers.settings(
        load_config(), webhook={"url": "http://127.0.0.1:1/hooks/secret-path"}
    )
    with pytest.raises(AlertDeliveryError, match="could not be reached") as error:
        send_test_message(unreachable, "webhook", receivers.secrets)
    assert "secret-path" not in str(error.value)


def test_the_slack_channel_sends_what_dagster_slack_would_with_the_shop_named(
    receivers: Receivers,
) -> None:
    settings = receivers.settings(load_config())
    send_test_message(settings, "slack", receivers.secrets)
    [(_, body)] = receivers.slack_calls
    assert body["text"].startswith("*shop.example.nl* Test message")


def test_doctor_lists_the_alert_channels_and_sends_each_a_test_message(
    cli: Cli, receivers: Receivers
) -> None:
    settings = yaml.safe_load(cli.config.read_text(encoding="utf-8"))
    with_channels = receivers.settings(SyncConfig.model_validate(settings))
    settings["alerts"] = with_channels.alerts.model_dump(mode="json")
    cli.config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")

    done = cli.run("doctor", "--config", str(cli.config), "--test-alerts", **receivers.environ)
    assert done.returncode == 0, done.stdout + done.stderr
    alerts = done.stdout.split("\nAlerts\n", 1)[1]
    assert "  e-mail to owner@shop.example.nl from woo-exact@shop.example.nl via" in alerts
    for channel in ("email", "slack", "webhook"):
        assert f"  ok    test message: sent to {channel}" in alerts
    assert len(receivers.smtp.messages) == len(receivers.slack_calls) == 1
    assert [payload["event"] for payload in receivers.webhook_payloads()] == ["test"]
    everything = done.stdout + done.stderr
    assert not [secret for secret in SECRETS if secret in everything]

    broken = {**receivers.environ, "WOO_EXACT_SMTP_PORT": "1"}
    failed = cli.run("doctor", "--config", str(cli.config), "--test-alerts", **broken)
    assert failed.returncode == 1
    assert "  FAIL  test message: e-mail via 127.0.0.1:1 failed" in failed.stdout


def test_the_alert_channels_resource_reads_each_set_variable_as_an_env_var(
    receivers: Receivers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An SMTP relay without a login: user and password are not set at all.
    for name, value in receivers.environ.items():
        if name not in ("WOO_EXACT_SMTP_USER", "WOO_EXACT_SMTP_PASSWORD"):
            monkeypatch.setenv(name, value)
    for name in ("WOO_EXACT_SMTP_USER", "WOO_EXACT_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    resource = AlertChannels.from_environment()
    # What Dagster keeps of the resource (run config, the UI) names variables, not values.
    assert resource.smtp_host == dg.EnvVar("WOO_EXACT_SMTP_HOST")
    assert resource.webhook_secret == dg.EnvVar("WOO_EXACT_WEBHOOK_SECRET")

    @dg.op
    def tell(alert_channels: AlertChannels) -> list[str]:
        settings = receivers.settings(load_config())
        return [channel.describe() for channel in alert_channels.channels(settings)]

    @dg.job(resource_defs={"alert_channels": resource})
    def describe_channels() -> None:
        tell()

    lines = describe_channels.execute_in_process().output_for_node("tell")
    assert lines[0].endswith(f"via 127.0.0.1:{receivers.smtp.server_address[1]} (no TLS, no login)")
    assert lines[1].startswith("Slack #webshop via http://127.0.0.1:")
    assert lines[2].endswith("(JSON, signed with HMAC-SHA256)")
    assert not [secret for secret in SECRETS if secret in "\n".join(lines)]
