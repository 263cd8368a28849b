"""Settings, read from the environment (and `.env`) once, then passed into every component."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values people paste from docs and tutorials; starting with one of these would fail later in a confusing way.
_PLACEHOLDERS = {"changeme", "xoxb-your-token", "xapp-your-token", "your-signing-secret", "secret", "..."}


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the variable and what is allowed."""


class Settings(BaseSettings):
    """Every variable of CONTRACT.md's environment table."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///healthbot.db"
    healthbot_model: str | None = None
    healthbot_timezone: str = "UTC"
    healthbot_digest_time: str = "08:30"
    healthbot_digest_channel: str | None = None
    healthbot_alert_channel: str | None = None
    healthbot_admins: str = ""
    healthbot_alert_channel_can_act: bool = False  # anyone clicking in the alert channel may act on its alerts
    healthbot_allowed_users: str = ""
    healthbot_playbooks: str | None = None
    healthbot_routing: str | None = None
    healthbot_alert_scan_minutes: int = Field(default=15, ge=1, le=1440)
    # Microsoft Teams (issue 16): the bot's Entra app registration, and where the team's copies go.
    teams_client_id: str | None = None
    teams_client_secret: str | None = None
    teams_tenant_id: str | None = None
    healthbot_teams_channel: str | None = None
    teams_public_url: str | None = None  # https base URL of serve-teams, for charts and export downloads
    teams_openid_metadata_url: str | None = None  # Bot Framework's OpenID metadata (sovereign clouds, test issuers)
    # Delivery under faults (bot.ledger): how long one Slack call may take, how long one message may wait out
    # rate limits in a run, and how long a claim outlives a process that stopped renewing it.
    healthbot_slack_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    healthbot_delivery_budget_seconds: float = Field(default=120.0, ge=0, le=3600)
    healthbot_claim_seconds: float = Field(default=90.0, gt=0, le=3600)

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token")
    @classmethod
    def _refuse_placeholders(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if value.strip().lower() in _PLACEHOLDERS:
            raise ValueError("is still the example placeholder; paste the real value from your Slack app's page")
        return value.strip()

    @field_validator(
        "teams_client_id", "teams_client_secret", "teams_tenant_id", "healthbot_teams_channel", "teams_public_url"
    )
    @classmethod
    def _teams_value(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if value.strip().lower() in _PLACEHOLDERS:
            raise ValueError("is still the example placeholder; paste the real value from your Azure bot's page")
        return value.strip()

    @field_validator("teams_public_url", "teams_openid_metadata_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError(f"'{value}' must be an https:// URL (Teams only calls and shows HTTPS)")
        return value.rstrip("/") if value else value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with 'xoxb-' (OAuth & Permissions page)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with 'xapp-' (Basic Information page)")
        return value

    @field_validator("healthbot_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"'{value}' is not an IANA timezone such as 'Europe/London' or 'UTC'") from err
        return value

    @field_validator("healthbot_digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError as err:
            raise ValueError(f"'{value}' is not a time of day like '08:30'") from err
        return value

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.healthbot_timezone)

    @property
    def digest_time(self) -> time:
        return time.fromisoformat(self.healthbot_digest_time)

    @property
    def admins(self) -> frozenset[str]:
        return _id_list(self.healthbot_admins)

    @property
    def allowed_users(self) -> frozenset[str]:
        return _id_list(self.healthbot_allowed_users)

    @property
    def alert_channel(self) -> str | None:
        return self.healthbot_alert_channel or self.healthbot_digest_channel

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def teams_enabled(self) -> bool:
        """All three Teams credentials are set: requests are authenticated and the bot can send."""
        return bool(self.teams_client_id and self.teams_client_secret and self.teams_tenant_id)


def _id_list(raw: str) -> frozenset[str]:
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning pydantic's report into one readable sentence per problem."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        problems = []
        for issue in err.errors():
            name = str(issue["loc"][0]).upper() if issue["loc"] else "settings"
            problems.append(f"{name} {issue['msg'].removeprefix('Value error, ')}")
        raise SettingsError("; ".join(problems)) from err
