"""HEALTHBOT_ALLOWED_USERS: people and user groups on the list are answered; everyone else gets a polite refusal,
where they asked, and nothing else happens."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from slack_sdk import WebClient

from bot.intents import Intent, intent_to_value
from handlers.slack.access import AccessList
from tests.handlers.slack.checks import all_text
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import (
    CHANNEL,
    MIKE,
    SARAH,
    app_home_opened,
    app_mention,
    block_action,
    direct_message,
    event_envelope,
    slash_command,
)
from tests.slack_api import SlackApiStandIn

OUTSIDER = "U0OUTSIDER"
CS_LEADS = "S0CSLEADS1"


@pytest.fixture
def guarded_bot(start_bot: Callable[..., RunningBot]) -> RunningBot:
    running = start_bot(healthbot_allowed_users=f"{SARAH}, {CS_LEADS}")
    running.api.usergroups[CS_LEADS] = [MIKE]
    return running


def test_someone_on_the_list_is_answered(guarded_bot: RunningBot) -> None:
    guarded_bot.client.command(slash_command("help", response_url=guarded_bot.api.response_url(), user_id=SARAH))
    [answer] = guarded_bot.api.wait_for("response_url")
    assert "Here's what I can do" in all_text(answer.params)
    assert guarded_bot.api.sent("usergroups.users.list") == [], "a listed person needs no group lookup"


def test_a_member_of_a_listed_user_group_is_answered_and_the_group_is_cached(guarded_bot: RunningBot) -> None:
    for n in range(3):
        form = slash_command("help", response_url=guarded_bot.api.response_url(str(n)), user_id=MIKE)
        guarded_bot.client.command(form)
    guarded_bot.api.wait_for("response_url", 3)
    [lookup] = guarded_bot.api.sent("usergroups.users.list")
    assert lookup.params["usergroup"] == CS_LEADS


def test_a_slash_command_from_someone_else_is_refused_in_the_acknowledgement(guarded_bot: RunningBot) -> None:
    reply = guarded_bot.client.command(
        slash_command("Acme Corp", response_url=guarded_bot.api.response_url(), user_id=OUTSIDER)
    )
    assert reply.status == 200
    refusal = reply.json()
    assert refusal["response_type"] == "ephemeral"
    assert "isn't open to you yet" in all_text(refusal)
    guarded_bot.api.wait_for_exactly("usergroups.users.list", 1)
    assert [call.method for call in guarded_bot.api.calls] == ["usergroups.users.list"]


def test_a_mention_from_someone_else_is_refused_privately_in_the_channel(guarded_bot: RunningBot) -> None:
    guarded_bot.client.event(event_envelope(app_mention("how is Acme doing?", user=OUTSIDER)))
    [refusal] = guarded_bot.api.wait_for("chat.postEphemeral")
    assert refusal.params["user"] == OUTSIDER and refusal.params["channel"] == CHANNEL
    assert guarded_bot.api.sent("chat.postMessage") == []


def test_a_dm_from_someone_else_is_refused_in_its_thread(guarded_bot: RunningBot) -> None:
    message = direct_message("risks?", user=OUTSIDER)
    guarded_bot.client.event(event_envelope(message))
    [refusal] = guarded_bot.api.wait_for_exactly("chat.postMessage", 1)
    assert refusal.params["thread_ts"] == message["ts"]
    assert "isn't open to you yet" in all_text(refusal.params)


def test_the_home_tab_of_someone_else_shows_the_refusal(guarded_bot: RunningBot) -> None:
    guarded_bot.client.event(event_envelope(app_home_opened(OUTSIDER)))
    [publish] = guarded_bot.api.wait_for("views.publish")
    assert "isn't open to you yet" in str(publish.params["view"])


def test_a_click_from_someone_else_is_refused_and_does_nothing(guarded_bot: RunningBot) -> None:
    payload = block_action(
        "health_share", intent_to_value(Intent("risks")), response_url=guarded_bot.api.response_url(), user=OUTSIDER
    )
    guarded_bot.client.action(payload)
    [refusal] = guarded_bot.api.wait_for_exactly("response_url", 1)
    assert refusal.params["response_type"] == "ephemeral"
    assert "isn't open to you yet" in all_text(refusal.params)


def test_another_bot_gets_no_refusal(guarded_bot: RunningBot) -> None:
    guarded_bot.client.event(event_envelope(direct_message("ping", user=OUTSIDER, bot_id="B0OTHERBOT")))
    guarded_bot.api.assert_quiet()


def test_an_empty_list_lets_everyone_in(slack_api: SlackApiStandIn) -> None:
    access = AccessList(frozenset(), client=WebClient(base_url=slack_api.base_url))
    assert access.allows(OUTSIDER)
    assert slack_api.calls == []


def cs_leads_only(api: SlackApiStandIn, *, clock: Callable[[], float]) -> AccessList:
    """An access list of one user group, CS leads, whose only member is Mike."""
    api.usergroups[CS_LEADS] = [MIKE]
    return AccessList(frozenset({CS_LEADS}), client=WebClient(token=api.bot_token, base_url=api.base_url), clock=clock)


def test_group_members_are_looked_up_again_after_the_cache_expires(slack_api: SlackApiStandIn) -> None:
    now = [0.0]
    access = cs_leads_only(slack_api, clock=lambda: now[0])
    assert access.allows(MIKE) and not access.allows(SARAH)
    slack_api.usergroups[CS_LEADS] = [MIKE, SARAH]
    assert not access.allows(SARAH), "still the cached members"
    now[0] += 301
    assert access.allows(SARAH), "a person added to the group gets in within five minutes"
    assert len(slack_api.sent("usergroups.users.list")) == 2


def test_a_failed_group_lookup_keeps_the_last_known_members(slack_api: SlackApiStandIn) -> None:
    now = [0.0]
    access = cs_leads_only(slack_api, clock=lambda: now[0])
    assert access.allows(MIKE)
    now[0] += 301
    del slack_api.usergroups[CS_LEADS]  # Slack answers no_such_subteam
    assert access.allows(MIKE)
