"""Settings refuse values that would fail later in a confusing way, and say which variable and why."""

from __future__ import annotations

from datetime import time

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_work_with_nothing_set() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///healthbot.db"
    assert settings.slack_enabled is False
    assert settings.digest_time == time(8, 30)
    assert str(settings.timezone) == "UTC"


def test_alert_channel_falls_back_to_the_digest_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTHBOT_DIGEST_CHANNEL", "C0DIGEST")
    assert load_settings().alert_channel == "C0DIGEST"
    monkeypatch.setenv("HEALTHBOT_ALERT_CHANNEL", "C0ALERTS")
    assert load_settings().alert_channel == "C0ALERTS"


def test_id_lists_are_split_and_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTHBOT_ADMINS", " U1, U2 ,,")
    monkeypatch.setenv("HEALTHBOT_ALLOWED_USERS", "S0TEAM")
    settings = load_settings()
    assert settings.admins == {"U1", "U2"} and settings.allowed_users == {"S0TEAM"}


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("SLACK_BOT_TOKEN", "xoxb-your-token", "placeholder"),
        ("SLACK_BOT_TOKEN", "xapp-1-abc", "xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-123", "xapp-"),
        ("HEALTHBOT_TIMEZONE", "Mars/Olympus", "IANA"),
        ("HEALTHBOT_DIGEST_TIME", "half past eight", "08:30"),
    ],
)
def test_bad_values_are_refused_by_name(monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert name in str(err.value) and said in str(err.value)
    assert value not in str(err.value) or name.startswith("HEALTHBOT")  # secrets are never echoed back


def test_env_example_lists_every_setting_with_a_comment() -> None:
    import re
    from pathlib import Path

    from bot.settings import Settings

    example = (Path(__file__).parents[2] / ".env.example").read_text(encoding="utf-8")
    listed = re.findall(r"^([A-Z_]+)=", example, re.MULTILINE)
    assert set(listed) == {name.upper() for name in Settings.model_fields}
    for name in listed:
        assert re.search(rf"^#.*\n{name}=", example, re.MULTILINE), f"{name} has no comment above it"
