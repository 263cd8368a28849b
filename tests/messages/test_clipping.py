"""Long customer text in messages: clipped line by line, so one long account name cannot hide the other lines of a
section or its "…and N more"; and every text a notification can show escaped, the alert's attachment fallback too."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass, replace
from datetime import date
from typing import Any

from messages import views
from messages.blockkit import render_message
from messages.format import clip
from tests.messages import factories as f
from tests.messages.test_alert_messages import acme_alert, assert_valid_alert
from tests.messages.test_blockkit import assert_valid_slack_message

LONG_NAME = "Northwind " * 500  # 5,000 characters
RAW_MARKUP = ("<!channel>", "<!here>", "<@U0EVIL0001>", "<https://evil.example|click>")


def test_one_long_line_is_cut_and_every_other_line_stays() -> None:
    lines = ["*↘ Biggest score drops*", *[f"• *Account {n}* 72 → 51 (−21)" for n in range(4)], "…and 7 more"]
    lines.insert(2, f"• *{LONG_NAME}* 70 → 40 (−30)")
    clipped = clip("\n".join(lines), 3000)
    kept = clipped.split("\n")
    assert len(clipped) <= 3000 and len(kept) == len(lines)
    assert [line for line in kept if "Northwind" not in line] == [line for line in lines if "Northwind" not in line]
    assert kept[-1] == "…and 7 more"
    [long_line] = [line for line in kept if "Northwind" in line]
    assert long_line.endswith("…") and len(long_line) > 2000, "the long line keeps what room is left"


def test_text_that_fits_is_untouched_and_one_line_is_cut_at_its_end() -> None:
    assert clip("Acme Corp\nMegaCorp", 3000) == "Acme Corp\nMegaCorp"
    assert clip("x" * 50, 10) == "x" * 9 + "…"


def test_a_cut_never_leaves_half_a_mention_or_half_an_escaped_character() -> None:
    assert clip("Owner <@U0SARAH001> on it", 15) == "Owner…"
    assert clip("Smith &amp; Sons", 10) == "Smith…"


def test_a_team_digest_with_a_five_thousand_character_name_still_shows_every_drop() -> None:
    drops = [f.ref(f"Account {n}", 60 - n, "Yellow") for n in range(4)]
    drops.insert(1, f.ref(LONG_NAME, 38, "Red"))
    digest = views.Digest("Team", date(2026, 11, 24), [], drops, [], [], [])
    message = render_message(digest)
    assert_valid_slack_message(message)
    [section] = [
        b["text"]["text"] for b in message["blocks"] if "Biggest score drops" in b.get("text", {}).get("text", "")
    ]
    assert len(section) <= 3000
    shown = [n for n in range(4) if f"Account {n}" in section]
    assert shown == [0, 1, 2, 3], "every other account's line is still there"
    assert "Northwind Northwind" in section


def test_the_alert_fallbacks_carry_no_raw_mentions_from_customer_text() -> None:
    name = "Acme " + " ".join(RAW_MARKUP)
    account = views.AccountRef("ACCT-4521", name, "Sarah <!everyone>", 45, "Red", arr=45_000)
    reason = views.Signal("turned_red", "Health fell <!channel>", "High", "risk")
    message = render_message(replace(acme_alert(), account=account, reasons=[reason]))
    assert_valid_alert(message)
    fallbacks = [message["text"], *(a["fallback"] for a in message["attachments"])]
    assert len(fallbacks) == 2
    for text in fallbacks:
        for markup in (*RAW_MARKUP, "<!everyone>"):
            assert markup not in text, f"{markup} would notify or link from the fallback: {text!r}"
        assert "&lt;!channel&gt;" in text
    assert all(markup not in json.dumps(message["blocks"]) for markup in RAW_MARKUP)


# --- every customer text field, in every template --------------------------------------------------------------------

HOSTILE = "Acme <!channel> <@U0EVIL0001> <https://evil.example|x> & Co"
CUSTOMER_TEXT = frozenset({"name", "csm_owner", "title", "note", "facts", "group", "subject", "playbook", "lines"})


def poisoned(value: Any, field_name: str = "") -> Any:
    """`value` with every field that can carry customer text replaced by text full of Slack markup."""
    if is_dataclass(value) and not isinstance(value, type):
        if isinstance(value, views.Dimension):
            return value  # the model's own labels, from the operator's model file: not customer text
        changes = {f.name: poisoned(getattr(value, f.name), f.name) for f in fields(value)}
        return replace(value, **changes)
    if isinstance(value, str):
        return HOSTILE if field_name in CUSTOMER_TEXT else value
    if isinstance(value, list):
        return [poisoned(item, field_name) for item in value]
    if isinstance(value, tuple):
        return tuple(poisoned(item, field_name) for item in value)
    return value


def readable_as_markup(message: dict[str, Any]) -> list[str]:
    """Every text Slack reads as mrkdwn: the fallbacks and every mrkdwn text object."""
    found = [message.get("text", ""), *(a.get("fallback", "") for a in message.get("attachments", []))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(message.get("blocks"))
    walk(message.get("attachments"))
    return found


def test_customer_text_never_reaches_slack_as_markup_in_any_template() -> None:
    from tests.handlers.slack.test_controls import every_view

    showing = []
    for view in every_view():
        texts = readable_as_markup(render_message(poisoned(view)))
        if any("&lt;!channel&gt;" in text for text in texts):
            showing.append(type(view).__name__)
        for text in texts:
            for markup in ("<!channel>", "<@U0EVIL0001>", "<https://evil.example"):
                assert markup not in text, f"{type(view).__name__}: {markup} in {text[:200]!r}"
    # every view that carries customer text was poisoned and shown it (App Home's settings carry none)
    assert set(showing) >= {"HealthCard", "Portfolio", "TrendReport", "Notice", "Digest", "Alert", "PlaybookChecklist"}
