"""Every view of one book tells one story (issue 11).

The sample book and a generated 2,000-account book are imported, scored with history and rendered through every
view — health card, recovery plan, portfolio per CSM, per segment and for the team, risks, trends, expansion,
digest per CSM and for the team, alerts, the report table — in Block Kit and in the terminal. Then:

- every "A → B (±C)" shown has C = B − A;
- the same account's score, band and change (with its window) agree across every view and the report table;
- counts add up to the rows they describe;
- no advice line contradicts the facts beside it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from rich.console import Console
from sqlalchemy.engine import Engine

from bot import insights
from bot.alerts import AlertDesk
from bot.importer import import_frames
from bot.playbook_runs import load_playbooks
from bot.sample import generate_portfolio, load_sample
from bot.scoring_runs import score_and_store
from bot.settings import Settings
from bot.store import create_db_engine, init_db
from messages import views
from messages.blockkit import render_message
from messages.format import MINUS
from messages.terminal import render_terminal
from scoring import load_model

DAY = date(2026, 11, 24)
MODEL = load_model(None)
LOWEST, TOP = MODEL.lowest_band.name, MODEL.top_band.name

# "71 → 68 (−3)": two scores shown and the change between them, in any rendering.
_MOVE = re.compile(r"(?<![\d.$])(\d{1,3}) → (?:\S+ )?(\d{1,3}) \(([+±" + MINUS + r"])(\d{1,3})")
# "−3 vs last quarter (71)" on the card, beside the card's score.
_CARD_MOVE = re.compile(r"([+±" + MINUS + r"])(\d{1,3}) vs (last month|last quarter) \((\d{1,3})\)")


def _signed(sign: str, digits: str) -> int:
    return -int(digits) if sign == MINUS else int(digits)


@dataclass
class Rendered:
    """Every view of one book, as view models and as the text people read."""

    engine: Engine
    report: pd.DataFrame
    views: list[object] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def add(self, view: object) -> None:
        self.views.append(view)
        message = render_message(view)
        self.texts.append(message["text"])
        self.texts.append(json.dumps(message["blocks"], ensure_ascii=False))
        console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
        render_terminal(view, console)
        self.texts.append(console.export_text())


def _store(path: Path, load: Any) -> Engine:
    engine = create_db_engine(f"sqlite:///{path}")
    init_db(engine)
    load(engine)
    score_and_store(engine, MODEL, as_of=DAY, history=True)
    return engine


def _render_book(engine: Engine, *, cards_every: int) -> Rendered:
    report = insights.report_table(engine, MODEL, as_of=DAY)
    out = Rendered(engine, report)
    ids = list(report["Account ID"])
    for account_id in ids[::cards_every]:
        out.add(insights.health_card(engine, MODEL, account_id, as_of=DAY))
        out.add(insights.recovery_plan(engine, MODEL, account_id, as_of=DAY))
    out.add(insights.portfolio(engine, MODEL, as_of=DAY))
    for csm in sorted(report["CSM Owner"].unique()):
        out.add(insights.portfolio(engine, MODEL, csm=csm, as_of=DAY))
    for segment in sorted(report["Segment"].dropna().unique()):
        out.add(insights.portfolio(engine, MODEL, segment=segment, as_of=DAY))
    out.add(insights.risk_list(engine, MODEL, as_of=DAY))
    out.add(insights.expansion_list(engine, MODEL, as_of=DAY))
    out.add(insights.trend_report(engine, MODEL, as_of=DAY))
    by_csm, team = insights.digests(engine, MODEL, day=DAY, csms=sorted(report["CSM Owner"].unique()))
    for view in [*by_csm.values(), team]:
        out.add(view)
    desk = AlertDesk(engine=engine, settings=Settings(), playbooks=load_playbooks())
    now = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC).replace(hour=9)
    alerts = desk.preview(bands=[b.name for b in MODEL.bands], now=now)
    assert alerts, "the book raises alerts to check"
    for alert in alerts:
        out.add(alert)
    return out


@pytest.fixture(scope="module")
def sample_book(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    engine = _store(tmp_path_factory.mktemp("sample") / "s.db", lambda e: load_sample(e, DAY))
    return _render_book(engine, cards_every=1)  # every account's card and plan


@pytest.fixture(scope="module")
def generated_book(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    accounts, metrics = generate_portfolio(2_000, DAY, seed=11)

    def load(engine: Engine) -> None:
        import_frames(engine, accounts=accounts, metrics=metrics, source="generated book")

    engine = _store(tmp_path_factory.mktemp("generated") / "g.db", load)
    return _render_book(engine, cards_every=100)  # every list covers all 2,000; cards for one in fifty


BOOKS = ["sample_book", "generated_book"]


def _refs(value: object) -> Iterator[views.AccountRef]:
    """Every AccountRef inside a view model, however deep."""
    if isinstance(value, views.AccountRef):
        yield value
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _refs(getattr(value, f.name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _refs(item)


@pytest.mark.parametrize("book", BOOKS)
def test_every_change_shown_is_the_difference_of_the_scores_shown(book: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(book)
    checked = 0
    for text in rendered.texts:
        for before, after, sign, digits in _MOVE.findall(text):
            assert _signed(sign, digits) == int(after) - int(before), f"{before} → {after} ({sign}{digits})"
            checked += 1
    for card in (v for v in rendered.views if isinstance(v, views.HealthCard)):
        message = json.dumps(render_message(card), ensure_ascii=False)
        for sign, digits, _, before in _CARD_MOVE.findall(message):
            assert _signed(sign, digits) == round(card.score) - int(before), card.name
            checked += 1
    assert checked > 50


@pytest.mark.parametrize("book", BOOKS)
def test_an_account_reads_the_same_in_every_view_and_the_report(book: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(book)
    table = rendered.report.set_index("Account ID")
    checked = 0
    for view in rendered.views:
        if isinstance(view, views.HealthCard | views.RecoveryPlan):
            card = view if isinstance(view, views.HealthCard) else view.card
            row = table.loc[card.account_id]
            assert (round(card.score), card.band) == (row["Health Score"], row["Status"]), card.name
            month = card.trend.vs_last_month
            assert (month is None) == pd.isna(row["Trend vs Last Month"]), card.name
            assert month is None or month == row["Trend vs Last Month"], card.name
            if isinstance(view, views.HealthCard) and card.actions:
                assert row["Action Needed"] == card.actions[0].title, card.name  # the same weights, overrides included
            checked += 1
        for ref in _refs(view):
            if isinstance(view, views.PlaybookChecklist) or ref.score is None:
                continue
            row = table.loc[ref.account_id]
            assert (round(ref.score), ref.band) == (row["Health Score"], row["Status"]), ref.name
            if ref.window == "last month":
                assert ref.delta == row["Trend vs Last Month"], ref.name
            if ref.previous_score is not None:
                assert ref.window in ("last month", "last quarter"), ref.name  # every change names its window
                assert ref.delta == round(ref.score) - round(ref.previous_score), ref.name
            checked += 1
    assert checked > len(table) / 2


@pytest.mark.parametrize("book", BOOKS)
def test_movers_lists_name_their_window(book: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(book)
    portfolios = [v for v in rendered.views if isinstance(v, views.Portfolio)]
    digests = [v for v in rendered.views if isinstance(v, views.Digest)]
    assert portfolios and digests
    for p in portfolios:
        text = json.dumps(render_message(p), ensure_ascii=False)
        assert f"Trends vs {p.window}" in text
        for a in [*p.improving[:5], *p.declining[:5]]:  # the rows the message shows
            assert a.previous_score is None or a.window == p.window or f") vs {a.window}" in text, (p.title, a)
    for d in digests:
        shown = [*d.new_reds[:8], *d.biggest_drops[:5], *d.renewals_at_risk[:6]]
        lines = [a for a in shown if a.previous_score is not None]
        assert d.window == "last month"
        text = json.dumps(render_message(d), ensure_ascii=False)
        for a in lines:
            # A row measured over another window (no score a month back) names its own.
            assert a.window == d.window or (f"{a.name} · " in text and f") vs {a.window}" in text), (d.recipient, a)
        if d.biggest_drops:
            assert f"Biggest score drops vs {d.window}" in json.dumps(render_message(d), ensure_ascii=False)


@pytest.mark.parametrize("book", BOOKS)
def test_counts_add_up_to_the_rows_they_describe(book: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(book)
    table = rendered.report
    portfolios = [v for v in rendered.views if isinstance(v, views.Portfolio)]
    for p in portfolios:
        movers = p.improving_total + p.declining_total + p.stable_count + p.new_count
        assert movers == p.total_accounts, p.title
        assert sum(b.count for b in p.bands) == p.total_accounts, p.title
        if p.groups:
            assert sum(g.accounts for g in p.groups) == p.total_accounts, p.title
            assert all(sum(g.band_counts.values()) == g.accounts for g in p.groups), p.title
        reds = next(b.count for b in p.bands if b.band == LOWEST)
        for line in p.recommendations:
            if found := re.match(r"Review the (\d+) declining", line):
                assert int(found[1]) == p.declining_total, (p.title, line)
            if found := re.match(rf"Focus intervention time on the (\d+) {LOWEST.lower()}", line):
                assert int(found[1]) == reds, (p.title, line)
            if found := re.match(r"Open expansion conversations with (\d+)", line):
                assert int(found[1]) == p.expansion_total, (p.title, line)
        text = json.dumps(render_message(p), ensure_ascii=False)
        if p.declining:
            assert f"*Declining* · {p.declining_total} account" in text, p.title
    team = next(p for p in portfolios if p.title == "All accounts")
    assert team.total_accounts == len(table)
    for d in (v for v in rendered.views if isinstance(v, views.Digest)):
        summary = render_message(d)["text"]
        assert f"{len(d.new_reds)} new red account" in summary and f"{len(d.due_today)} signal" in summary
        if d.recipient == insights.TEAM:
            assert sum(g.accounts for g in d.by_group) == len(table)
            assert d.arr_at_risk == pytest.approx(table.loc[table["Status"] == LOWEST, "ARR"].sum())
    digests = [v for v in rendered.views if isinstance(v, views.Digest)]
    team_digest = next(d for d in digests if d.recipient == insights.TEAM)
    csm_digests = [d for d in digests if d.recipient != insights.TEAM]
    # Each CSM's digest is the team's, split: the counts of the parts add up to the whole.
    assert sum(d.renewal_total for d in csm_digests) == team_digest.renewal_total >= len(team_digest.renewals_at_risk)
    assert sum(len(d.new_reds) for d in csm_digests) == len(team_digest.new_reds)
    assert sum(len(d.due_today) for d in csm_digests) == len(team_digest.due_today)
    for trends in (v for v in rendered.views if isinstance(v, views.TrendReport)):
        for finding in [*trends.concerns, *trends.positives]:
            assert finding.affected_accounts <= finding.total_accounts
            if found := re.match(r"(\d+) of (\d+) ", finding.pattern):
                assert (int(found[1]), int(found[2])) == (finding.affected_accounts, finding.total_accounts)


@pytest.mark.parametrize("book", BOOKS)
def test_no_advice_contradicts_the_facts_beside_it(book: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(book)
    table = rendered.report.set_index("Account ID")
    cards = [v for v in rendered.views if isinstance(v, views.HealthCard)]
    plans = [v for v in rendered.views if isinstance(v, views.RecoveryPlan)]
    assert cards and plans
    urgent = {c.account_id for c in cards if any(r.severity in views.SEVERITIES[:2] for r in c.risks)}
    for view in rendered.views:
        ready = []
        if isinstance(view, views.ExpansionList):
            ready = [c.account.account_id for c in view.candidates]
        elif isinstance(view, views.Portfolio | views.Digest):
            ready = [a.account_id for a in view.expansion_ready]
        assert not urgent & set(ready), "expansion-ready with an open High or Critical risk"
    for card in cards:
        facts = [fact for d in card.dimensions for fact in d.facts]
        if "Executive sponsor not engaged" in facts:
            for action in card.actions:
                leaning = [i for i, s in enumerate(action.steps) if "sponsor" in s.casefold()]
                assert not leaning or "re-engage an executive sponsor" in action.steps[leaning[0]], card.name
        for target in card.goal.targets if card.goal else []:
            if found := re.match(r"Win back .* to \$?([\d,.]+)%? \(\$?([\d,.]+)%? \d+ days ago\)", target):
                goal, then = (float(x.replace(",", "")) for x in found.groups())
                assert goal <= then, (card.name, target)
        if card.arr is None:
            assert "$0 ARR" not in json.dumps(render_message(card), ensure_ascii=False)
    for plan in plans:
        assert plan.playbook == plan.card.playbook, plan.card.name  # chosen in one place
        said = plan.diagnosis[0]
        if found := re.match(r"Health fell (\d+) points? since .*: (\d+) → (\d+)", said):
            fell, before, after = map(int, found.groups())
            assert fell == before - after and (fell == 1) == (" 1 point " in said), said
    for p in (v for v in rendered.views if isinstance(v, views.Portfolio)):
        in_view = {r.csm_owner for b in p.bands for r in b.top}
        for line in p.recommendations:
            if found := re.search(r"reassign some of (.+)'s \w+ accounts", line):
                owner = found[1]
                assert owner in in_view
                assert ((table["CSM Owner"] == owner) & (table["Status"] == TOP)).any(), line
    for trends in (v for v in rendered.views if isinstance(v, views.TrendReport)):
        for finding in trends.concerns:
            if "engagement drop" in finding.title:
                assert not any(re.search(r"CSM touches \+", x) for x in finding.indicators), finding.indicators


def test_the_report_weighs_dimensions_as_scoring_does_with_lifecycle_overrides(sample_book: Rendered) -> None:
    onboarding = [v for v in sample_book.views if isinstance(v, views.HealthCard) and v.lifecycle_stage == "onboarding"]
    assert onboarding, "the sample book has onboarding accounts"
    table = sample_book.report.set_index("Account ID")
    for card in onboarding:
        assert table.loc[card.account_id, "Action Needed"] == card.actions[0].title
        usage = next(d for d in card.dimensions if d.key == "usage")
        ignored = [f for f in usage.facts if "not counted while onboarding" in f]
        assert ignored, (card.name, usage.facts)  # the seat count beside a usage score it does not move


def test_wording_counts_plurals_and_stops(sample_book: Rendered) -> None:
    fallbacks = [render_message(v)["text"] for v in sample_book.views]
    assert fallbacks and not any(re.search(r"\d\.\.|\.\.(?!\.)", text) for text in fallbacks)
    assert not any(re.search(r"\b1 (points|accounts|alerts|signals)\b|\(s\)", text) for text in sample_book.texts)


def test_the_terminal_card_fits_an_80_column_terminal(sample_book: Rendered) -> None:
    card = next(v for v in sample_book.views if isinstance(v, views.HealthCard) and v.renewal_date is not None)
    console = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    render_terminal(card, console)
    text = " ".join(console.export_text().split())
    for fact in (card.csm_owner, "ARR", f"renews {card.renewal_date:%-d %b %Y}"):
        assert fact in text.replace("│ ", "").replace(" │", ""), fact  # wrapped, never cut
