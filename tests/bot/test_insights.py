"""Builders against a real store: what `/health …` shows for seed 001's Acme Corp and Sarah Chen's book."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from bot import insights
from bot.scoring_runs import score_and_store
from bot.store import AlertAction, write_session
from scoring import load_model
from tests.bot.test_scoring_runs import sample_book, seed
from tests.scoring.frames import TODAY

MODEL = load_model(None)


@pytest.fixture
def scored(engine: Engine) -> Engine:
    """The sample book, scored today with its history (as the demo does)."""
    seed(engine, *sample_book())
    score_and_store(engine, MODEL, as_of=TODAY, history=True)
    return engine


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Acme Corp", "ACCT-4521"), ("acct-4521", "ACCT-4521"), ("ACME CORP", "ACCT-4521"), ("Acme Crop?", "ACCT-4521")],
)
def test_find_account_by_name_id_any_case_or_a_typo(scored: Engine, text: str, expected: str) -> None:
    match = insights.find_account(scored, text)
    assert match.found and match.account_id == expected and match.name == "Acme Corp"


def test_find_account_offers_the_closest_names_and_never_a_former_customer(scored: Engine) -> None:
    match = insights.find_account(scored, "Corp")
    assert not match.found and {"Acme Corp", "MegaCorp"} <= set(match.suggestions)
    assert not insights.find_account(scored, "OldTech").found


def test_health_card_for_acme_corp(scored: Engine) -> None:
    with write_session(scored) as session:
        for minute, kind in enumerate(["acknowledge", "note", "start_playbook", "snooze", "assign", "touch"]):
            when = datetime(2026, 11, 23, 9, minute, tzinfo=UTC)
            session.add(
                AlertAction(account_id="ACCT-4521", user_id="U0SARAH001", kind=kind, note="called", created_at=when)
            )
    card = insights.health_card(scored, MODEL, "Acme Corp")
    assert (card.account_id, card.band, card.as_of, card.days_to_renewal) == ("ACCT-4521", "Yellow", TODAY, 127)
    assert 64 <= card.score <= 72 and card.confidence == 1.0
    assert (
        card.trend.direction == "declining"
        and card.trend.vs_last_quarter is not None
        and card.trend.vs_last_quarter < -3
    )
    usage = card.dimensions[0]
    assert (usage.name, usage.band, usage.weight) == ("Product Usage", "Red", 0.4)
    assert usage.facts[0] == "12 of 25 seats active (48%)"
    assert [r.key for r in card.risks] == ["low_nps", "gradual_decline"]
    assert card.actions[0].title == "Address usage decline"
    assert card.goal is not None and (card.goal.target_score, card.goal.days) == (75, 30)
    assert card.goal.targets[0] == "Raise feature adoption to 50%"
    assert "Increase usage to 60% seat utilisation" in card.goal.targets
    assert card.playbook == "Churn Risk Response"
    assert [a.what for a in card.recent_actions] == [
        "logged a touch",
        "assigned",
        "snoozed",
        "started the playbook",
        "added a note",
    ]


def test_health_card_errors_say_what_to_do(scored: Engine) -> None:
    with pytest.raises(insights.UnknownAccountError) as unknown:
        insights.health_card(scored, MODEL, "Initech Corp")
    assert unknown.value.notice().kind == "not_found"
    assert "Acme Corp" in unknown.value.notice().suggestions
    with pytest.raises(insights.NoScoresError, match=r"No scores on or before 2026-01-01.*healthbot score --as-of"):
        insights.health_card(scored, MODEL, "Acme Corp", as_of=TODAY.replace(month=1, day=1))


def test_a_question_before_the_days_scoring_run_reads_the_latest_scores(scored: Engine) -> None:
    tomorrow = TODAY + timedelta(days=1)
    assert insights.health_card(scored, MODEL, "Acme Corp", as_of=tomorrow).as_of == TODAY
    week_ago = insights.health_card(scored, MODEL, "Acme Corp", as_of=TODAY - timedelta(days=7))
    assert week_ago.as_of == TODAY - timedelta(days=30)  # the last snapshot stored by `score --history`
    with pytest.raises(insights.NoScoresError, match="No scores for 2026-11-25"):
        insights.digest(scored, MODEL, day=tomorrow)  # a digest is for the day it was scored


def test_nothing_scored_yet_is_a_clear_error(engine: Engine) -> None:
    seed(engine, *sample_book())
    with pytest.raises(insights.NoScoresError, match=r"No health scores yet.*healthbot score"):
        insights.portfolio(engine, MODEL)


def test_sarahs_portfolio_by_first_name_or_slack_id(scored: Engine) -> None:
    book = insights.portfolio(scored, MODEL, csm="Sarah")
    assert insights.portfolio(scored, MODEL, csm="<@U0SARAH001>") == book
    assert (book.title, book.total_accounts, book.total_arr) == ("Sarah Chen", 3, 212_000)
    assert {b.band: b.count for b in book.bands} == {"Green": 1, "Yellow": 1, "Red": 1}
    assert [a.name for a in book.declining] == ["MegaCorp", "Acme Corp"]
    assert [(a.name, a.note) for a in book.renewals] == [("MegaCorp", "renewal in 45 days")]
    assert book.renewal_arr_at_risk == 82_000
    assert book.capacity is not None and book.capacity.status == "Healthy"
    assert [a.name for a in book.expansion_ready] == ["TechFlow"]
    assert book.recommendations[0].startswith("Escalate MegaCorp this week")


def test_team_portfolio_has_a_row_per_csm_and_no_former_customers(scored: Engine) -> None:
    team = insights.portfolio(scored, MODEL)
    assert team.title == "All accounts" and team.total_accounts == 4
    assert [(g.group, g.accounts) for g in team.groups] == [("Sarah Chen", 3), ("Mike Lee", 1)]
    segment = insights.portfolio(scored, MODEL, segment="enterprise")
    assert (segment.title, segment.total_accounts) == ("Enterprise segment", 1)


def test_unknown_csm_or_segment_offers_the_names_that_exist(scored: Engine) -> None:
    with pytest.raises(insights.UnknownCsmError) as csm:
        insights.portfolio(scored, MODEL, csm="Sara Chen")
    assert csm.value.suggestions[0] == "Sarah Chen"
    with pytest.raises(insights.UnknownSegmentError) as segment:
        insights.portfolio(scored, MODEL, segment="Government")
    assert segment.value.suggestions == ["Enterprise", "Mid-Market", "SMB"]


def test_team_digest_leads_with_new_reds_and_the_most_urgent_signals(scored: Engine) -> None:
    digest = insights.digest(scored, MODEL, day=TODAY)
    assert digest.recipient == "Team"
    assert [a.name for a in digest.new_reds] == ["MegaCorp"]
    first_ref, first_signal = digest.due_today[0]
    assert (first_ref.name, first_signal.title, first_signal.severity) == (
        "MegaCorp",
        "Ticket surge with usage drop",
        "Critical",
    )
    assert [a.name for a in digest.biggest_drops] == ["MegaCorp", "Acme Corp"]
    assert [a.name for a in digest.renewals_at_risk] == ["MegaCorp"]
    assert [a.name for a in digest.expansion_ready] == ["TechFlow"]
    assert digest.arr_at_risk == 82_000
    assert {g.group for g in digest.by_group} == {"Sarah Chen", "Mike Lee"}


def test_a_csms_digest_holds_only_their_accounts(scored: Engine) -> None:
    mike = insights.digest(scored, MODEL, day=TODAY, csm="mike lee")
    assert mike.recipient == "Mike Lee"
    assert mike.new_reds == [] and mike.due_today == [] and mike.by_group == []


def test_risk_list_holds_red_declining_and_renewing_at_risk_accounts(scored: Engine) -> None:
    risks = insights.risk_list(scored, MODEL)
    assert risks.title == "At risk this quarter"
    assert sorted(a.name for b in risks.bands for a in b.top) == ["Acme Corp", "MegaCorp"]


def test_expansion_list_names_the_opportunity(scored: Engine) -> None:
    expansion = insights.expansion_list(scored, MODEL)
    (candidate,) = expansion.candidates
    assert (candidate.account.name, candidate.opportunity) == ("TechFlow", "Upsell conversation")
    assert "Seats nearly full" in candidate.reasons and expansion.total_arr == 85_000


def test_recovery_plan_and_drop_cause(scored: Engine) -> None:
    plan = insights.recovery_plan(scored, MODEL, "MegaCorp")
    assert plan.playbook == "Red Account Recovery"
    assert [s.timing for s in plan.stages] == ["Hours 0–24", "Hours 24–48", "Days 3–30", "Days 31–90"]
    assert plan.diagnosis[0].startswith("Health fell") and plan.goal is not None
    acme = insights.recovery_plan(scored, MODEL, "Acme Corp")
    assert acme.playbook == "Churn Risk Response"
    cause = insights.drop_cause(scored, MODEL, "Acme Corp")
    assert cause.stages == [] and cause.card.name == "Acme Corp"
    assert any(line.startswith("Product Usage cost") for line in cause.diagnosis)


def test_report_table_has_the_contract_columns_in_order(scored: Engine) -> None:
    table = insights.report_table(scored, MODEL)
    assert list(table.columns[:13]) == list(insights.REPORT_COLUMNS)
    assert list(table["Account Name"]) == ["MegaCorp", "Acme Corp", "Globex", "TechFlow"]  # weakest first
    acme = table.set_index("Account ID").loc["ACCT-4521"]
    assert acme["Status"] == "Yellow" and 64 <= acme["Health Score"] <= 72
    assert acme["Action Needed"] == "Address usage decline"
    assert acme["Risk Notes"] == "Low NPS; Sustained gradual decline"
    assert acme["Last Touch"] == TODAY - timedelta(days=10)
    assert acme["Trend vs Last Month"] < 0 and acme["Confidence"] == 1.0
    by_segment = insights.report_table(scored, MODEL, group_by="segment")
    assert list(by_segment["Segment"]) == ["Enterprise", "Mid-Market", "Mid-Market", "SMB"]


def test_report_table_for_a_day_never_scored_says_so(scored: Engine) -> None:
    with pytest.raises(insights.NoScoresError, match="No scores for 2026-10-02"):
        insights.report_table(scored, MODEL, as_of=TODAY - timedelta(days=53))


def test_trend_report_ranks_segment_patterns_and_tracks_playbooks(engine: Engine) -> None:
    from tests.bot.test_scoring_runs import monthly
    from tests.scoring.frames import account

    accounts, metrics = sample_book()
    accounts += [
        account("E1", name="Initech", segment="Enterprise", arr=150_000.0),
        account("E2", name="Umbrella", segment="Enterprise", arr=120_000.0),
    ]
    metrics += monthly("E1", active_users=15) + monthly("E2")
    seed(engine, accounts, metrics)
    score_and_store(engine, MODEL, as_of=TODAY, history=True)
    with write_session(engine) as session:
        started = datetime.combine(TODAY - timedelta(days=40), datetime.min.time(), tzinfo=UTC)
        session.add(
            AlertAction(account_id="ACCT-4521", user_id="U0SARAH001", kind="start_playbook", created_at=started)
        )

    report = insights.trend_report(engine, MODEL)
    assert report.title == "Q4 2026 customer health trends"
    top = report.concerns[0]
    assert (top.title, top.concern, top.arr_affected) == ("Enterprise usage decline", "High", 232_000)
    assert top.pattern == "2 of 3 Enterprise accounts show usage down more than 15% vs last quarter"
    assert [a.name for a in top.accounts] == ["Initech", "MegaCorp"]
    assert report.summary_actions[0].startswith("Enterprise usage decline: ")
    assert report.playbook_results == ["1 playbook started in the last 90 days: 0 improved, 1 declined"]
    # OldTech left 20 days ago: the backtest has something to say about the model.
    assert report.model_insights[0].startswith("Predictive power (ROC AUC for churn within 90 days): ")


def test_portfolio_can_group_the_team_by_segment(scored: Engine) -> None:
    team = insights.portfolio(scored, MODEL, group_by="segment")
    assert [(g.group, g.accounts) for g in team.groups] == [("Mid-Market", 2), ("Enterprise", 1), ("SMB", 1)]


@pytest.fixture
def demo(engine: Engine) -> Engine:
    """The built-in sample portfolio, imported and scored with history, as `healthbot demo` does."""
    from bot.sample import load_sample

    load_sample(engine, TODAY)
    score_and_store(engine, MODEL, as_of=TODAY, history=True)
    return engine


def test_the_demo_story_acme_lands_yellow_around_68_with_usage_the_top_risk_driver(demo: Engine) -> None:
    card = insights.health_card(demo, MODEL, "Acme Corp")
    assert card.band == "Yellow" and 64 <= card.score <= 72
    costs = {d.key: d.weight * (100 - d.score) for d in card.dimensions if d.score is not None}
    assert max(costs, key=costs.__getitem__) == "usage"
    assert card.trend.direction == "declining" and card.actions[0].title == "Address usage decline"
    assert card.dimensions[0].facts[0] == "12 of 25 seats active (48%)"


def test_the_demo_shows_sarahs_book_and_the_seeds_warning_signs(demo: Engine) -> None:
    sarah = insights.portfolio(demo, MODEL, csm="Sarah Chen")
    assert sarah.renewals[0].name == "MegaCorp" and sarah.renewals[0].band == "Red"
    assert "Acme Corp" in [a.name for a in sarah.declining]
    assert {"StartupXYZ", "InnovateCo"} <= {a.name for a in sarah.improving}
    notes = " ".join(insights.report_table(demo, MODEL)["Risk Notes"])
    for signal in ("Payment overdue", "Champion left", "Plan downgrade", "No login in 14+ days"):
        assert signal in notes
    digest = insights.digest(demo, MODEL, day=TODAY, csm="Sarah Chen")
    assert digest.recipient == "Sarah Chen" and digest.renewals_at_risk[0].name == "MegaCorp"


def test_the_score_ranks_the_samples_former_customers_as_risky(demo: Engine) -> None:
    from bot.scoring_runs import backtest_store

    result = backtest_store(demo, MODEL)
    assert result.churned_accounts == 18
    assert result.auc is not None and result.auc > 0.8
    assert result.flagged_before_churn > result.churned_accounts / 2
