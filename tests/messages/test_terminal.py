"""The terminal shows the same views as Slack: what `healthbot demo` and `healthbot ask` print."""

from __future__ import annotations

from datetime import date

import pytest
from rich.console import Console

from messages import views
from messages.terminal import render_terminal
from tests.messages import factories as f


def shown(view: object) -> str:
    console = Console(record=True, width=120, color_system=None)
    render_terminal(view, console)
    return console.export_text()


def test_health_card_in_the_terminal() -> None:
    out = shown(f.acme_card())
    assert "Acme Corp" in out and "68/100 Yellow" in out
    assert "−10 vs last quarter (78)" in out
    assert "12 of 25 seats active (48%)" in out
    assert "Usage decline (High, respond within 24 hours)" in out
    assert "30-day health goal: 75/100" in out
    # customer text is shown literally, not read as rich markup
    assert "Called VP Ops <urgent> & booked audit" in out


def test_customer_text_with_markup_characters_is_literal() -> None:
    out = shown(f.acme_card(name="[bold]Sneaky[/bold] Ltd"))
    assert "[bold]Sneaky[/bold] Ltd" in out


def test_portfolio_and_digest_in_the_terminal() -> None:
    out = shown(f.portfolio(32))
    assert "Portfolio health · Sarah Chen" in out and "Stretched" in out and "$215K ARR at risk" in out
    red = f.ref("MegaCorp", 48, "Red", 82_000, note="renews in 45 days")
    out = shown(views.Digest("Sarah Chen", date(2026, 11, 24), [red], [], [], [red], []))
    assert "Early-warning digest · Sarah Chen" in out and "MegaCorp" in out and "renews in 45 days" in out


def test_empty_digest_is_reassuring() -> None:
    assert "Nothing needs you this morning" in shown(views.Digest("Team", date(2026, 11, 24), [], [], [], [], []))


def test_notice_lists_suggestions() -> None:
    out = shown(
        views.Notice("No account called “Acme Crop”", ["Did you mean one of these?"], ["Acme Corp"], "not_found")
    )
    assert "Did you mean one of these?" in out and "• Acme Corp" in out


def test_unknown_view_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        render_terminal(object(), Console())
