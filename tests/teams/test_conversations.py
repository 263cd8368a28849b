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
