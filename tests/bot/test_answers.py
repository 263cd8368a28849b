"""Every kind of question gets the view a CSM expects, and every wrong question a plain answer saying what to do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.answers import AnswerContext, answer
from bot.cli import app
from bot.intents import Intent, parse_question
from bot.settings import load_settings
from bot.store import create_db_engine
from messages import views

TODAY = date(2026, 11, 24)


@pytest.fixture
def demo_engine(demo_db: str) -> Iterator[Engine]:
    engine = create_db_engine(demo_db)
    yield engine
    engine.dispose()


def ask(engine: Engine, text: str, **ctx: object) -> object:
    return answer(parse_question(text), ctx=AnswerContext(engine=engine, settings=load_settings(), today=TODAY, **ctx))


def test_health_card_for_acme_corp(demo_engine: Engine) -> None:
    card = ask(demo_engine, "What's the health score for Acme Corp?")
    assert isinstance(card, views.HealthCard)
    assert card.name == "Acme Corp" and card.band == "Yellow" and 64 <= card.score <= 72
    assert card.trend.direction == "declining"
    assert card.risks[0].title == "Usage decline" and card.risks[0].severity == "High"


def test_unknown_account_offers_the_closest_names(demo_engine: Engine) -> None:
    notice = ask(demo_engine, "/health Mega Corporation")
    assert isinstance(notice, views.Notice) and notice.kind == "not_found"
    assert "Mega Corporation" in notice.title and "MegaCorp" in notice.suggestions


def test_a_name_nothing_resembles_says_what_to_try(demo_engine: Engine) -> None:
    notice = ask(demo_engine, "/health Zzyzx Holdings")
    assert isinstance(notice, views.Notice) and notice.kind == "not_found"
    assert notice.suggestions == [] and "account ID" in notice.lines[0]


def test_my_portfolio_is_the_askers_book(demo_engine: Engine) -> None:
    book = ask(demo_engine, "show my book", user_name="Sarah Chen")
    assert isinstance(book, views.Portfolio) and book.title == "Sarah Chen" and book.total_accounts == 32
    anonymous = ask(demo_engine, "show my book")
    assert isinstance(anonymous, views.Notice) and "Name the CSM" in " ".join(anonymous.lines)


def test_a_misspelt_csm_is_offered_the_real_one(demo_engine: Engine) -> None:
    notice = ask(demo_engine, "/health portfolio Sara")
    assert isinstance(notice, views.Notice) and "Sarah Chen" in notice.suggestions


def test_segment_view_and_unknown_segment(demo_engine: Engine) -> None:
    enterprise = ask(demo_engine, "/health segment Enterprise")
    assert isinstance(enterprise, views.Portfolio) and "Enterprise" in enterprise.title
    unknown = ask(demo_engine, "/health segment Government")
    assert isinstance(unknown, views.Notice) and "Enterprise" in unknown.suggestions


@pytest.mark.parametrize(
    ("question", "view"),
    [
        ("Which health trends should worry us most this quarter?", views.TrendReport),
        ("Which accounts are expansion ready?", views.AccountTable),
        ("Generate recovery plan for Acme Corp", views.RecoveryPlan),
        ("What caused Acme Corp health to drop?", views.RecoveryPlan),
        ("who's at risk this quarter?", views.AccountTable),
    ],
)
def test_each_contract_question_gets_its_view(demo_engine: Engine, question: str, view: type) -> None:
    assert isinstance(ask(demo_engine, question), view)


def test_export_in_an_unknown_format_names_the_ones_we_have(demo_engine: Engine) -> None:
    notice = answer(Intent("export", subject="pdf"), ctx=AnswerContext(engine=demo_engine, settings=load_settings()))
    assert isinstance(notice, views.Notice) and "csv or xlsx" in notice.lines[0]


def test_a_question_it_cannot_place_is_answered_with_what_it_can_do(demo_engine: Engine) -> None:
    notice = ask(demo_engine, "what's the weather in Lisbon?")
    assert isinstance(notice, views.Notice) and notice.kind == "refused"
    assert "weather in Lisbon" in notice.lines[0] and notice.title == "I can't do that — here is what I can"


def test_an_empty_store_says_to_import_and_score(engine: Engine) -> None:
    notice = answer(Intent("portfolio", subject="all"), ctx=AnswerContext(engine=engine, settings=load_settings()))
    assert isinstance(notice, views.Notice)
    assert "healthbot score" in " ".join([notice.title, *notice.lines])


def test_a_broken_model_file_is_named(demo_engine: Engine, tmp_path: Path) -> None:
    broken = tmp_path / "model.toml"
    broken.write_text('[dimensions.usage]\nweight = "lots"\n', encoding="utf-8")
    notice = answer(
        Intent("account", subject="Acme Corp"),
        ctx=AnswerContext(engine=demo_engine, settings=load_settings(healthbot_model=str(broken)), today=TODAY),
    )
    assert isinstance(notice, views.Notice) and notice.title == "The health model file has a problem"
    assert "weight" in " ".join(notice.lines)


def test_demo_prints_the_three_views(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--db", f"sqlite:///{tmp_path / 'demo.db'}"])
    assert result.exit_code == 0, result.output
    assert "Acme Corp · ACCT-4521" in result.output
    assert "Portfolio health · Sarah Chen" in result.output
    assert "Early-warning digest · Sarah Chen" in result.output


def test_demo_twice_changes_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    CliRunner().invoke(app, ["demo", "--db", db])
    again = CliRunner().invoke(app, ["demo", "--db", db])
    assert again.exit_code == 0 and "0 new" in again.output


def test_ask_json_prints_the_block_kit_payload(demo_db: str) -> None:
    result = CliRunner().invoke(app, ["ask", "How is Acme doing?", "--json", "--db", demo_db])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["text"].startswith("Acme Corp: health") and payload["blocks"][0]["type"] == "header"


def test_ask_about_an_unknown_account_exits_non_zero(demo_db: str) -> None:
    result = CliRunner().invoke(app, ["ask", "/health Zzyzx Holdings", "--db", demo_db])
    assert result.exit_code == 1 and "No account called" in result.output
