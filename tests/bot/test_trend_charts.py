"""The trend charts come from the stored score history, one point per month, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from bot import insights
from bot.store import Account, HealthScore, create_db_engine, write_session
from bot.trend_charts import account_history, account_trend, segment_history, segment_trends
from messages import charts
from scoring import load_model
from tests.messages.test_charts import png_size

TODAY = date(2026, 11, 24)
NAMES = {"usage": "Product Usage", "support": "Support", "sentiment": "Sentiment"}


def month_ends(count: int) -> list[date]:
    """The 24th of each of the last `count` months, oldest first, like the sample portfolio's snapshots."""
    return [(pd.Timestamp(TODAY) - pd.DateOffset(months=i)).date() for i in reversed(range(count))]


def store(engine: Engine, accounts: list[Account], scores: list[HealthScore]) -> None:
    with write_session(engine) as session:
        session.add_all(accounts)
        session.flush()
        session.add_all(scores)


def score(account_id: str, day: date, value: float, **dimensions: float | None) -> HealthScore:
    band = "Green" if value >= 80 else "Yellow" if value >= 60 else "Red"
    return HealthScore(account_id=account_id, as_of=day, score=value, band=band, confidence=1.0, dimensions=dimensions)


def acme(engine: Engine) -> None:
    days = month_ends(15)  # two more than the chart shows
    series = zip(days, np.linspace(82, 68, 15), np.linspace(75, 55, 15), strict=True)
    scores = [
        score("ACCT-4521", day, value, usage=usage, support=80.0, sentiment=None if i == 5 else 70.0)
        for i, (day, value, usage) in enumerate(series)
    ]
    # Rescored daily this month: the chart's last point is the latest score, not one per day.
    scores += [score("ACCT-4521", TODAY - timedelta(days=d), 70.0 + d, usage=56.0) for d in range(1, 6)]
    account = Account(account_id="ACCT-4521", name="Acme Corp", csm_owner="Sarah Chen", segment="Mid-Market")
    store(engine, [account], scores)


def test_account_history_is_one_point_a_month_for_thirteen_months(engine: Engine) -> None:
    acme(engine)
    history = account_history(engine, "ACCT-4521", dimension_names=NAMES)

    assert len(history) == 13
    assert history["as_of"].iloc[-1] == TODAY and history["score"].iloc[-1] == 68
    assert history["as_of"].iloc[0] == date(2025, 11, 24)
    assert list(history.columns) == ["as_of", "score", "Product Usage", "Support", "Sentiment"]
    assert history["Sentiment"].isna().sum() == 1  # a month without data stays a gap, never a zero


def test_account_history_as_of_an_earlier_day_ends_there(engine: Engine) -> None:
    acme(engine)
    history = account_history(engine, "ACCT-4521", as_of=TODAY - timedelta(days=3), dimension_names=NAMES)
    assert history["as_of"].iloc[-1] == TODAY - timedelta(days=3)
    assert history["score"].iloc[-1] == 73  # the latest score on or before that day
    assert len(history) == 13


def test_an_account_never_scored_has_an_empty_history(engine: Engine) -> None:
    assert account_history(engine, "ACCT-0000").empty


def test_segment_history_averages_each_account_once_a_month(engine: Engine) -> None:
    days = month_ends(13)
    accounts = [
        Account(account_id="E1", name="MegaCorp", csm_owner="Sarah Chen", segment="Enterprise"),
        Account(account_id="E2", name="BigCo", csm_owner="Sarah Chen", segment="Enterprise"),
        Account(account_id="S1", name="TinyCo", csm_owner="Marcus Webb", segment="SMB"),
        Account(account_id="N1", name="Nobody Inc", csm_owner="Marcus Webb", segment=None),
        Account(account_id="GONE", name="OldTech", csm_owner="Marcus Webb", segment="SMB"),
    ]
    scores = [score("E1", day, 60.0) for day in days] + [score("E2", day, 80.0) for day in days]
    scores += [score("E2", TODAY - timedelta(days=1), 10.0)]  # an earlier score the same month does not count
    scores += [score("S1", day, 90.0) for day in days] + [score("N1", days[-1], 50.0)]
    scores += [score("GONE", day, 30.0) for day in days[:4]]  # left after four months
    store(engine, accounts, scores)

    history = segment_history(engine)
    latest = history[history["as_of"] == date(2026, 11, 1)].set_index("segment")
    assert latest.loc["Enterprise", "score"] == 70 and latest.loc["Enterprise", "accounts"] == 2
    assert latest.loc["SMB", "score"] == 90 and latest.loc["SMB", "accounts"] == 1
    assert latest.loc["No segment", "score"] == 50
    first = history[history["as_of"] == date(2025, 11, 1)].set_index("segment")
    assert first.loc["SMB", "score"] == 60 and first.loc["SMB", "accounts"] == 2  # OldTech still a customer then
    assert history["as_of"].nunique() == 13


def test_an_empty_store_has_no_segment_history(engine: Engine) -> None:
    assert segment_history(engine).empty


def test_stored_history_draws_both_trend_charts(engine: Engine) -> None:
    acme(engine)
    account_png = charts.account_trend_chart(account_history(engine, "ACCT-4521", dimension_names=NAMES), account="A")
    segment_png = charts.segment_trend_chart(segment_history(engine))
    assert account_png.startswith(b"\x89PNG") and segment_png.startswith(b"\x89PNG")


def test_the_demo_portfolios_charts_are_pngs_of_slacks_preview_size(demo_db: str) -> None:
    engine = create_db_engine(demo_db)
    model = load_model(None)
    names = {dimension.key: dimension.name for dimension in model.dimensions}
    bands = [(band.name, band.min) for band in model.bands]

    acme = account_history(engine, "ACCT-4521", dimension_names=names)
    assert len(acme) == 13 and "Product Usage" in acme.columns
    sarah = insights.portfolio(engine, model, csm="Sarah Chen")
    segments = segment_history(engine)
    assert set(segments["segment"]) == {"Enterprise", "Mid-Market", "SMB"}

    for png in (
        charts.account_trend_chart(acme, account="Acme Corp", bands=bands),
        charts.portfolio_distribution_chart(sarah),
        charts.segment_trend_chart(segments, bands=bands),
    ):
        assert png_size(png) == (charts.WIDTH_PX, charts.HEIGHT_PX) == (1200, 675)
    engine.dispose()


def test_show_trend_for_the_demos_acme_corp(demo_db: str) -> None:
    engine = create_db_engine(demo_db)
    chart = account_trend(engine, load_model(None), "ACCT-4521")
    assert chart.title == "Acme Corp: health trend" and chart.filename == "acme-corp-health-trend.png"
    assert chart.summary.startswith("Acme Corp: health score ") and "24 Nov 2026" in chart.summary
    assert png_size(chart.png) == (1200, 675)
    segments = segment_trends(engine, load_model(None))
    assert "Enterprise" in segments.summary and png_size(segments.png) == (1200, 675)
    engine.dispose()


def test_show_trend_for_an_unknown_or_unscored_account_says_why(engine: Engine) -> None:
    store(engine, [Account(account_id="NEW-1", name="Newco", csm_owner="Sarah Chen")], [])
    with pytest.raises(insights.UnknownAccountError, match="GONE-1"):
        account_trend(engine, load_model(None), "GONE-1")
    with pytest.raises(insights.InsightError) as err:
        account_trend(engine, load_model(None), "NEW-1")
    assert "Newco" in err.value.title and "healthbot score" in " ".join(err.value.lines)
    with pytest.raises(insights.NoScoresError):
        segment_trends(engine, load_model(None))
