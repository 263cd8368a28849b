"""Questions in a personal chat and by @mention in a channel, answered with Adaptive Cards at the serviceUrl."""

from __future__ import annotations

from tests.teams.conftest import CHANNEL, SARAH_CHAT, RunningTeams, assert_valid_card, card_text, personal_message


def test_a_personal_question_is_answered_with_the_health_card(teams: RunningTeams) -> None:
    status, _ = teams.post(personal_message("What's the health score for Acme Corp?", teams.api.service_url))

    assert status == 200
    [sent] = teams.api.wait_for("create")
    assert sent.conversation_id == SARAH_CHAT
    assert sent.authorization == f"Bearer {teams.outbound_token}"
    [card] = teams.api.cards()
    assert_valid_card(card)
    assert "Acme Corp" in card_text(card) and "/100" in card_text(card)


def test_a_channel_mention_is_answered_in_its_thread_without_the_mention(teams: RunningTeams) -> None:
    from tests.teams.conftest import channel_mention

    status, _ = teams.post(channel_mention("portfolio Sarah Chen", teams.api.service_url))

    assert status == 200
    [sent] = teams.api.wait_for("create")
    assert sent.conversation_id.startswith(CHANNEL)
    [card] = teams.api.cards()
    assert_valid_card(card)
    assert "Sarah Chen: portfolio health" in card_text(card)


def test_install_keeps_the_conversation_and_says_hello(teams: RunningTeams) -> None:
    from bot.teams.conversations import personal_chats
    from tests.teams.conftest import installed

    assert personal_chats(teams.engine) == {}
    status, _ = teams.post(installed(teams.api.service_url))

    assert status == 200
    [card] = [c for c in (teams.api.wait_for("create") and teams.api.cards())]
    assert_valid_card(card)
    chat = personal_chats(teams.engine)["Sarah Chen"]  # her email in the member list names her as the CSM
    assert chat.conversation_id == SARAH_CHAT and chat.service_url == teams.api.service_url


def test_every_answer_card_is_valid_adaptive_card_1_5(teams: RunningTeams) -> None:
    questions = [
        "health portfolio me",
        "health Acme Corp",
        "portfolio me",
        "risks",
        "expansion",
        "trends",
        "help",
        "health Acme Crp",
        "Generate recovery plan for Acme Corp",
        "What caused Acme Corp health to drop?",
        "segment Enterprise",
    ]
    for question in questions:
        assert teams.post(personal_message(question, teams.api.service_url))[0] == 200
    teams.api.wait_for("create", count=len(questions), timeout=60)
    cards = teams.api.cards()
    assert len(cards) == len(questions)
    for card in cards:
        assert_valid_card(card)
    trends = next(c for c in cards if any(e.get("type") == "Image" for e in c["body"]))
    assert trends["body"][2]["url"].startswith("data:image/png;base64,")  # no TEAMS_PUBLIC_URL: embedded
    portfolios = [c for c in cards if "Sarah Chen: portfolio health" in card_text(c)]
    assert len(portfolios) == 2  # "portfolio me" and the manifest's command "health portfolio me": her email's CSM
    helps = [c for c in cards if "Here's what I can do" in card_text(c)]
    assert helps and "/health" not in card_text(helps[0]) and "`health Acme Corp`" in card_text(helps[0])


def test_a_question_teams_sends_twice_is_answered_once(teams: RunningTeams) -> None:
    question = personal_message("health Acme Corp", teams.api.service_url)

    assert teams.post(question)[0] == 200
    assert teams.post(question)[0] == 200  # Teams resends an activity it thinks went unanswered
    teams.api.wait_for("create")
    teams.post(personal_message("help", teams.api.service_url))  # a later question, to know the first is done
    teams.api.wait_for("create", count=2)

    assert sum("Acme Corp" in card_text(c) and "/100" in card_text(c) for c in teams.api.cards()) == 1
