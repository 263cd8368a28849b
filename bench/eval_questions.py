"""An outside look at the question engine: questions typed the way CSMs and CS leaders type them, asked of the
demo book through `healthbot ask --json` (in-process), each judged against the store's own tables — never against
the bot's earlier answers.

Each answer is one of:
  right                 it answers the question asked, with the figures the store holds
  not understood        help text, a refusal or a "did you mean" — honest, but not an answer
  confidently wrong     it names an account outside the scope asked for, a count the store contradicts, or another
                        account's card

    python bench/eval_questions.py [--show-wrong]

Written before looking at the engine's grammar; kept apart from the engine's own test suite so that it stays an
estimate of what people will see.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from bot.cli import app as cli  # noqa: E402

TODAY = date.today()
VERDICTS = ("right", "not understood", "confidently wrong")


@dataclass
class Book:
    """The store's own facts, one row per current account, as of the latest scored day."""

    accounts: pd.DataFrame
    churned: pd.DataFrame
    as_of: date

    def names(self, rows: pd.DataFrame) -> set[str]:
        return set(rows["name"])

    def of(self, **where: object) -> pd.DataFrame:
        rows = self.accounts
        for column, value in where.items():
            rows = rows[rows[column] == value]
        return rows

    def one(self, name: str) -> pd.Series:
        return self.accounts[self.accounts["name"] == name].iloc[0]


def load_book(url: str) -> Book:
    engine = create_engine(url)
    with engine.connect() as conn:
        accounts = pd.read_sql("select * from account", conn)
        as_of = pd.read_sql("select max(as_of) as d from health_score", conn)["d"].iloc[0]
        scores = pd.read_sql(f"select account_id, score, band from health_score where as_of = '{as_of}'", conn)
        month_ago = (pd.Timestamp(as_of) - pd.Timedelta(days=30)).date()
        before = pd.read_sql(
            "select account_id, score as score_month_ago from health_score h where as_of = "
            f"(select max(as_of) from health_score where as_of <= '{month_ago}' and account_id = h.account_id)",
            conn,
        )
        metrics = pd.read_sql(
            "select m.* from metric_snapshot m join (select account_id, max(as_of) as d from metric_snapshot "
            "group by account_id) l on m.account_id = l.account_id and m.as_of = l.d",
            conn,
        )
    engine.dispose()
    current = accounts[accounts["churned_on"].isna()].merge(scores, on="account_id", how="left")
    current = current.merge(before, on="account_id", how="left").merge(
        metrics.drop(columns=["as_of"]), on="account_id", how="left"
    )
    current["rounded"] = current["score"].round().astype("Int64")
    current["renewal_date"] = pd.to_datetime(current["renewal_date"])
    current["last_touch"] = pd.to_datetime(current["last_touch"])
    return Book(current, accounts[accounts["churned_on"].notna()], date.fromisoformat(str(as_of)))


# --- judging ------------------------------------------------------------------------------------------------------


def flatten(payload: object) -> str:
    """Every text a person would read in a Block Kit payload (top-level text, blocks, table cells)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "title", "fallback", "alt_text") and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            pass

    walk(payload)
    return "\n".join(found)


def names_in(text: str, book: Book) -> set[str]:
    every = sorted(set(book.accounts["name"]) | set(book.churned["name"]), key=len, reverse=True)
    found = set()
    rest = text.replace("&amp;", "&")
    for name in every:
        if name in rest:
            found.add(name)
            rest = rest.replace(name, " ")
    return found


NOT_UNDERSTOOD = re.compile(
    r"here'?s what i can do|i can'?t|i cannot|did you mean|no account called|not sure what|couldn'?t find|"
    r"no csm called|no segment",
    re.I,
)


# An answer that only offers help, a refusal or other names is never counted as a wrong answer, only as a miss.
HELP_OR_REFUSAL = re.compile(r"here'?s what i can do|did you mean|no account called|no csm called", re.I)


@dataclass
class Judged:
    verdict: str
    why: str = ""


Check = Callable[[str, Book], Judged]


def honest_miss(text: str) -> Judged:
    if NOT_UNDERSTOOD.search(text):
        return Judged("not understood", "help, refusal or did-you-mean")
    return Judged("not understood", "answered something else")


def card(name: str) -> Check:
    def check(text: str, book: Book) -> Judged:
        row = book.one(name)
        named = names_in(text, book)
        if name not in named:
            others = named - {name}
            if len(others) == 1 and not NOT_UNDERSTOOD.search(text):
                return Judged("confidently wrong", f"answered about {others}")
            return honest_miss(text)
        if str(row["rounded"]) not in text or str(row["band"]) not in text:
            return Judged("confidently wrong", f"{name}'s score {row['rounded']} {row['band']} not shown")
        return Judged("right")

    return check


def listing(expected: Callable[[Book], pd.DataFrame], *, all_of_up_to: int = 10, count: bool = False) -> Check:
    """A list whose every named account is in the expected rows; all of them when there are few; the count when
    asked for."""

    def check(text: str, book: Book) -> Judged:
        rows = expected(book)
        want = book.names(rows)
        named = names_in(text, book)
        stray = named - want
        if stray and not NOT_UNDERSTOOD.search(text):
            return Judged("confidently wrong", f"named outside the scope: {sorted(stray)[:4]}")
        if count:
            numbers = {int(n) for n in re.findall(r"(?<![\d.$])(\d+)(?![\d%])", text)}
            if len(want) not in numbers:
                if not named and not stray:
                    return honest_miss(text)
                return Judged("confidently wrong", f"count {len(want)} not stated")
        if not want:
            empty = re.search(r"\bno\b|none|nothing|0 accounts|zero", text, re.I)
            return Judged("right") if empty and not stray else honest_miss(text)
        if not named:
            return honest_miss(text)
        if stray:
            return honest_miss(text)
        if len(want) <= all_of_up_to and not want <= named:
            return Judged("confidently wrong", f"left out {sorted(want - named)[:4]}")
        return Judged("right")

    return check


def mentions(*needles: str, any_of: Iterable[str] = ()) -> Check:
    def check(text: str, book: Book) -> Judged:
        lowered = text.lower()
        missing = [n for n in needles if n.lower() not in lowered]
        alternatives = list(any_of)
        if missing or (alternatives and not any(a.lower() in lowered for a in alternatives)):
            return honest_miss(text)
        return Judged("right")

    return check


def compare(*names: str) -> Check:
    def check(text: str, book: Book) -> Judged:
        named = names_in(text, book)
        if not set(names) <= named:
            return honest_miss(text)
        for name in names:
            if str(book.one(name)["rounded"]) not in text:
                return Judged("confidently wrong", f"{name}'s score missing")
        return Judged("right")

    return check


def unsupported(text: str, book: Book) -> Judged:
    if re.search(r"no account called", text, re.I):
        return Judged("not understood", "read as an account name")
    if re.search(r"can'?t|cannot|not able|read-only|only answer", text, re.I):
        return Judged("right")
    return Judged("not understood", "no refusal")


def churned(name: str) -> Check:
    def check(text: str, book: Book) -> Judged:
        row = book.churned[book.churned["name"] == name].iloc[0]
        when = date.fromisoformat(str(row["churned_on"]))
        said = re.search(r"churn|left|former|cancel", text, re.I)
        day_shown = any(
            fmt in text for fmt in (when.isoformat(), f"{when.day} {when:%b}", f"{when:%b} {when.day}", f"{when:%B}")
        )
        if said and day_shown:
            return Judged("right")
        if re.search(r"\b\d{1,3}/100\b", text) and not said:
            return Judged("confidently wrong", "scored a former customer as current")
        return honest_miss(text)

    return check


def help_answer(text: str, book: Book) -> Judged:
    return Judged("right") if re.search(r"here'?s what i can do", text, re.I) else Judged("not understood", "no help")


# --- the questions ------------------------------------------------------------------------------------------------


def renewing_within(days: int) -> Callable[[Book], pd.DataFrame]:
    def rows(book: Book) -> pd.DataFrame:
        end = pd.Timestamp(book.as_of + timedelta(days=days))
        renewal = book.accounts["renewal_date"]
        return book.accounts[(renewal >= pd.Timestamp(book.as_of)) & (renewal <= end)]

    return rows


def untouched_for(days: int) -> Callable[[Book], pd.DataFrame]:
    def rows(book: Book) -> pd.DataFrame:
        since = pd.Timestamp(book.as_of - timedelta(days=days))
        touch = book.accounts["last_touch"]
        return book.accounts[touch.isna() | (touch < since)]

    return rows


def dropped_by(points: int) -> Callable[[Book], pd.DataFrame]:
    def rows(book: Book) -> pd.DataFrame:
        change = book.accounts["score"].round() - book.accounts["score_month_ago"].round()
        return book.accounts[change <= -points]

    return rows


QUESTIONS: list[tuple[str, Check]] = [
    # one account's health
    ("Is DataMax healthy?", card("DataMax")),
    ("quick health check on GlobalTech", card("GlobalTech")),
    ("@Healthbot how's acme corp looking", card("Acme Corp")),
    ("health score for techflow pls", card("TechFlow")),
    ("what's the status of Keystone Insurance?", card("Keystone Insurance")),
    ("how is megacorp doing 🤔", card("MegaCorp")),
    ("Acme Crop health", card("Acme Corp")),
    ("give me the card for Harbour Bank", card("Harbour Bank")),
    ("Nova Robotics?", card("Nova Robotics")),
    ("how healthy is sakura retail right now", card("Sakura Retail")),
    # why
    ("what's dragging Acme down", mentions("Acme Corp", any_of=["usage", "drop", "decline", "driv"])),
    ("why did MegaCorp's score drop?", mentions("MegaCorp", any_of=["usage", "drop", "decline", "because", "driv"])),
    ("root cause for Nova Robotics decline", mentions("Nova Robotics", any_of=["drop", "decline", "driv", "usage"])),
    ("What caused Acme Corp health to drop?", mentions("Acme Corp", any_of=["usage", "drop", "decline"])),
    # a CSM's portfolio
    ("Portfolio summary for Emma Schmidt", listing(lambda b: b.of(csm_owner="Emma Schmidt"))),
    ("how's diego's book?", listing(lambda b: b.of(csm_owner="Diego Ramirez"))),
    ("show me kenji's portfolio", listing(lambda b: b.of(csm_owner="Kenji Watanabe"))),
    ("Priya Patel accounts", listing(lambda b: b.of(csm_owner="Priya Patel"))),
    ("marcus portfolio health", listing(lambda b: b.of(csm_owner="Marcus Johnson"))),
    ("Show me the health distribution across Sarah's portfolio", listing(lambda b: b.of(csm_owner="Sarah Chen"))),
    # counts and filtered lists with a scope
    (
        "how many red accounts does Sarah have?",
        listing(lambda b: b.of(csm_owner="Sarah Chen", band="Red"), count=True),
    ),
    ("list Kenji's at-risk accounts", listing(lambda b: b.of(csm_owner="Kenji Watanabe").query("band != 'Green'"))),
    ("red accounts in Enterprise", listing(lambda b: b.of(segment="Enterprise", band="Red"))),
    ("which SMB accounts are red?", listing(lambda b: b.of(segment="SMB", band="Red"))),
    ("how many accounts are green", listing(lambda b: b.of(band="Green"), count=True, all_of_up_to=0)),
    ("show me all red accounts", listing(lambda b: b.of(band="Red"), all_of_up_to=25)),
    ("Emma's red accounts", listing(lambda b: b.of(csm_owner="Emma Schmidt", band="Red"))),
    ("yellow accounts for marcus", listing(lambda b: b.of(csm_owner="Marcus Johnson", band="Yellow"))),
    # segments, regions, industries, tiers in plain words
    ("how are our EMEA accounts doing?", listing(lambda b: b.of(region="EMEA"), all_of_up_to=0)),
    ("show me SMB", listing(lambda b: b.of(segment="SMB"), all_of_up_to=0)),
    ("health breakdown for SMB", listing(lambda b: b.of(segment="SMB"), all_of_up_to=0)),
    ("mid-market health", listing(lambda b: b.of(segment="Mid-Market"), all_of_up_to=0)),
    ("how is APAC looking", listing(lambda b: b.of(region="APAC"))),
    ("healthcare accounts", listing(lambda b: b.of(industry="Healthcare"))),
    ("enterprise tier accounts at risk", listing(lambda b: b.of(plan_tier="Enterprise").query("band != 'Green'"))),
    ("LATAM red accounts", listing(lambda b: b.of(region="LATAM", band="Red"))),
    ("how are the retail customers doing", listing(lambda b: b.of(industry="Retail"))),
    # lists with a filter
    ("renewals in the next 30 days", listing(renewing_within(30))),
    ("which accounts renew in the next 60 days?", listing(renewing_within(60))),
    ("upcoming renewals next 90 days", listing(renewing_within(90), all_of_up_to=15)),
    ("who hasn't been touched in 30 days", listing(untouched_for(30), all_of_up_to=15)),
    ("accounts with no CSM touch in 60 days", listing(untouched_for(60), all_of_up_to=15)),
    ("which accounts dropped more than 10 points this month", listing(dropped_by(10))),
    ("biggest score drops", listing(dropped_by(1), all_of_up_to=0)),
    ("accounts with NPS below 6", listing(lambda b: b.accounts[b.accounts["nps"] < 6])),
    ("show me detractors", listing(lambda b: b.accounts[b.accounts["nps"] <= 6], all_of_up_to=0)),
    ("who has overdue payments?", listing(lambda b: b.accounts[b.accounts["days_overdue"].fillna(0) > 0])),
    ("Which accounts are expansion ready?", listing(lambda b: b.of(band="Green"), all_of_up_to=0)),
    ("top 5 accounts by ARR at risk", listing(lambda b: b.accounts[b.accounts["band"] != "Green"], all_of_up_to=0)),
    # trends
    ("Which health trends should worry us most this quarter?", mentions(any_of=["trend", "concern"])),
    ("what changed since last week", mentions(any_of=["since", "changed", "week"])),
    ("Acme Corp trend over the last 6 months", mentions("Acme Corp", any_of=["trend", "month"])),
    ("what changed this month for MegaCorp", mentions("MegaCorp", any_of=["since", "changed", "month"])),
    # plans
    ("Generate recovery plan for Acme Corp", mentions("Acme Corp", any_of=["recovery", "stage", "step"])),
    ("success plan for TechFlow", mentions("TechFlow", any_of=["success plan", "objective", "goal"])),
    ("prep me for the QBR with DataMax", mentions("DataMax", any_of=["QBR", "agenda", "business review"])),
    ("renewal strategy for MegaCorp", mentions("MegaCorp", any_of=["renewal"])),
    ("expansion opportunities at TechFlow", mentions("TechFlow", any_of=["expansion", "seat", "upsell"])),
    # comparisons
    ("Acme vs TechFlow", compare("Acme Corp", "TechFlow")),
    ("compare EnterpriseABC, DataMax and GlobalTech", compare("EnterpriseABC", "DataMax", "GlobalTech")),
    ("megacorp or oldtech - which is worse?", compare("MegaCorp", "OldTech")),
    # the model
    ("how is the health score calculated", mentions(any_of=["weight", "40%"])),
    ("what does red mean", mentions("red", any_of=["below", "under", "<", "0–", "0-"])),
    ("what are the weights", mentions(any_of=["40%", "weight"])),
    ("how well does our health score predict churn?", mentions(any_of=["AUC", "predict", "churn"])),
    # former customers, out of scope
    ("how is Pinecrest Dental doing", churned("Pinecrest Dental")),
    ("delete all accounts", unsupported),
    ("send an email to Acme's champion", unsupported),
    ("what's the weather in Paris", unsupported),
    ("help", help_answer),
    ("what can you do?", help_answer),
]


def ask(question: str, db_url: str) -> str:
    result = CliRunner().invoke(cli, ["ask", question, "--json"], env={"DATABASE_URL": db_url})
    try:
        return flatten(json.loads(result.output))
    except json.JSONDecodeError:
        return result.output


def build_store(folder: Path) -> str:
    from bot.sample import load_sample
    from bot.scoring_runs import score_and_store
    from bot.store import create_db_engine, init_db
    from scoring import load_model

    url = f"sqlite:///{folder / 'healthbot.db'}"
    engine = create_db_engine(url)
    init_db(engine)
    load_sample(engine, TODAY)
    score_and_store(engine, load_model(None), as_of=TODAY, history=True)
    engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-wrong", action="store_true", help="print every answer that was not right")
    args = parser.parse_args()
    os.environ.pop("SLACK_BOT_TOKEN", None)
    with tempfile.TemporaryDirectory() as folder:
        url = build_store(Path(folder))
        book = load_book(url)
        tally = dict.fromkeys(VERDICTS, 0)
        for question, check in QUESTIONS:
            text = ask(question, url)
            judged = (
                honest_miss(text)
                if HELP_OR_REFUSAL.search(text) and check not in (unsupported, help_answer)
                else check(text, book)
            )
            tally[judged.verdict] += 1
            if args.show_wrong and judged.verdict != "right":
                first = " / ".join(line for line in text.splitlines()[:2])[:160]
                print(f"[{judged.verdict}] {question!r}: {judged.why} — {first}")
    total = len(QUESTIONS)
    print(
        f"{total} questions: {tally['right']} right ({tally['right'] / total:.0%}), "
        f"{tally['not understood']} not understood, {tally['confidently wrong']} confidently wrong"
    )


if __name__ == "__main__":
    main()
