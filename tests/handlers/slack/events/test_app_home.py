"""The App Home tab: the person's own book, found by their Slack ID or, failing that, their email address."""

from __future__ import annotations

import threading

from sqlmodel import select

from bot.store import ProcessedEvent, read_session
from tests.handlers.slack.checks import all_text
from tests.handlers.slack.conftest import RunningBot
from tests.handlers.slack.requests import MIKE, SARAH, app_home_opened, event_envelope


def published_home(bot: RunningBot, user: str) -> dict[str, object]:
    bot.client.event(event_envelope(app_home_opened(user)))
    [publish] = bot.api.wait_for("views.publish")
    assert publish.params["user_id"] == user
    view = publish.params["view"]
    assert view["type"] == "home"
    assert 0 < len(view["blocks"]) <= 100
    return view


def test_a_csm_with_their_slack_id_on_accounts_sees_their_book(bot: RunningBot) -> None:
    view = published_home(bot, SARAH)
    assert "Welcome to Healthbot" not in str(view)
    assert bot.api.sent("users.info") == [], "the Slack ID was enough"


def test_a_csm_known_only_by_email_is_found_through_slack(bot: RunningBot) -> None:
    view = published_home(bot, MIKE)
    [lookup] = bot.api.sent("users.info")
    assert lookup.params["user"] == MIKE
    assert "Welcome to Healthbot" not in str(view)


def test_someone_without_accounts_is_welcomed_with_what_to_do(bot: RunningBot) -> None:
    bot.api.add_user("U0VPSALES1", name="Vera Price", email="vera@example.com")
    view = published_home(bot, "U0VPSALES1")
    said = all_text({"text": "", "blocks": view["blocks"]})
    assert "Welcome to Healthbot" in said
    assert "csm_slack_id" in said and "/health Acme Corp" in said


def test_the_email_lookup_is_cached(bot: RunningBot) -> None:
    published_home(bot, MIKE)
    bot.api.clear()
    published_home(bot, MIKE)
    assert bot.api.sent("users.info") == []


def test_opening_the_messages_tab_publishes_nothing(bot: RunningBot) -> None:
    bot.client.event(event_envelope(app_home_opened(SARAH, tab="messages")))
    bot.api.assert_quiet()


def test_a_retried_event_is_handled_once_and_recorded_before_anything_else(bot: RunningBot) -> None:
    envelope = event_envelope(app_home_opened(SARAH), event_id="Ev0HOMERETRY")
    bot.client.event(envelope)
    bot.client.event(envelope, retry_num=1)
    bot.api.wait_for_exactly("views.publish", 1)
    with read_session(bot.engine) as session:
        assert session.get(ProcessedEvent, "Ev0HOMERETRY") is not None


def test_two_deliveries_racing_each_other_are_handled_once(bot: RunningBot) -> None:
    envelope = event_envelope(app_home_opened(SARAH), event_id="Ev0HOMERACE1")
    senders = [threading.Thread(target=bot.client.event, args=(envelope,)) for _ in range(4)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    bot.api.wait_for_exactly("views.publish", 1)
    with read_session(bot.engine) as session:
        assert len(session.exec(select(ProcessedEvent)).all()) == 1
