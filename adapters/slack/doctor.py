"""`wgbot doctor` for Slack: are the tokens valid, and does the installed app have every scope it needs?

`auth.test` answers with the token's granted scopes in the `x-oauth-scopes` header; comparing them
with the shipped manifest finds the usual mistake — an app created by hand, or installed before a
scope was added — before a member meets a `missing_scope` error.
"""

from __future__ import annotations

from importlib import resources

import yaml
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.doctor import PLATFORM_CHECKS, Check
from adapters.slack.client import api_url, web_client
from bot.config import Settings

NAME = "Slack"


def manifest_scopes() -> list[str]:
    text = resources.files("adapters.slack").joinpath("manifest.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return list(data["oauth_config"]["scopes"]["bot"])


def _granted(headers: object) -> set[str] | None:
    for key, value in dict(headers or {}).items():  # type: ignore[call-overload]
        if str(key).lower() == "x-oauth-scopes":
            raw = value[0] if isinstance(value, list) else value
            return {s.strip() for s in str(raw).split(",") if s.strip()}
    return None


async def check_slack(settings: Settings) -> Check:
    if settings.slack_bot_token is None:
        return Check(NAME, "missing", "no SLACK_BOT_TOKEN: Slack is off (see the README's Slack section).")
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        return Check(
            NAME,
            "fail",
            "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET "
            "(HTTP mode) is: set one (Basic Information → App-Level Tokens / App Credentials).",
        )
    client = web_client(settings)
    try:
        resp = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        return Check(
            NAME,
            "fail",
            f"auth.test refused the bot token ({error}): copy the Bot User OAuth Token (xoxb-…) from "
            "OAuth & Permissions again, or reinstall the app.",
        )
    except Exception as exc:
        return Check(NAME, "fail", f"cannot reach the Slack Web API at {api_url(settings)}: {type(exc).__name__}")
    team, bot = resp.get("team", "?"), resp.get("user", "?")
    granted = _granted(resp.headers)
    missing = [s for s in manifest_scopes() if granted is not None and s not in granted]
    if missing:
        return Check(
            NAME,
            "fail",
            f"bot {bot} in {team} lacks scopes: {', '.join(missing)}. Add them under OAuth & Permissions "
            "(or update the app from adapters/slack/manifest.yml) and reinstall the app to the workspace.",
        )
    if settings.slack_app_token is not None:
        app_token = settings.slack_app_token.get_secret_value()
        try:
            await AsyncWebClient(base_url=api_url(settings)).apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            return Check(
                NAME,
                "fail",
                f"SLACK_APP_TOKEN was refused ({exc.response.get('error')}): create an app-level token with the "
                "connections:write scope (Basic Information → App-Level Tokens) and enable Socket Mode.",
            )
    mode = "Socket Mode" if settings.slack_app_token is not None else "HTTP mode (wgbot run --slack-http)"
    scopes = "all scopes granted" if granted is not None else "scopes not reported"
    return Check(NAME, "ok", f"bot {bot} in {team}, {mode}, {scopes}")


if check_slack not in PLATFORM_CHECKS:
    PLATFORM_CHECKS.append(check_slack)
