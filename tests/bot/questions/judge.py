"""Judge an answer against the store's own tables: the expected accounts are worked out here with plain SQL over
`account`, `health_score` and `metric_snapshot`, never from the bot's code or its earlier output."""

from __future__ import annotations

import calendar
import sqlite3
from datetime import date, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from bot.answers import AnswerContext, answer
from bot.intents import parse_question
from bot.settings import load_settings
from messages import views
from tests.bot.questions.expect import Expect

TODAY = date(2026, 11, 24)
SLACK_IDS = {
    "Sarah Chen": "U0SARAH001",
    "Kenji Watanabe": "U0KENJI001",
}
_SCOPE_COLUMNS = {
    "segment": "segment",
    "region": "region",
    "industry": "industry",
    "plan_tier": "plan_tier",
    "lifecycle": "lifecycle_stage",
}


def ask(engine: Engine, text: str, asker: str | None = None) -> object:
    ctx = AnswerContext(engine=engine, settings=load_settings(), today=TODAY, user_id=asker)
    return answer(parse_question(text), ctx=ctx)


def _db(engine: Engine) -> sqlite3.Connection:
    return sqlite3.connect(str(engine.url.database))


def scored_day(con: sqlite3.Connection) -> str:
    return con.execute("select max(as_of) from health_score where as_of <= ?", (TODAY.isoformat(),)).fetchone()[0]


def expected_rows(engine: Engine, f: dict[str, Any]) -> list[str]:
    """Account IDs the filters select, sorted as the case asks (score, then name, unless told otherwise)."""
    con = _db(engine)
    day = scored_day(con)
    sql = (
        "select a.account_id, a.name, h.score, a.arr, a.renewal_date, "
        # moves over a quarter ("dropped the most this quarter") are measured from the quarter's score
        + ("h.last_quarter_score" if f.get("quarter") else "h.last_month_score")
        + " from account a "
        "join health_score h on h.account_id = a.account_id and h.as_of = ? "
        "where (a.churned_on is null or a.churned_on > ?)"
    )
    args: list[Any] = [day, day]
    if "csm" in f:
        sql += " and a.csm_owner = ?"
        args.append(f["csm"])
    if "csms" in f:
        sql += " and a.csm_owner in (" + ", ".join("?" for _ in f["csms"]) + ")"
        args += list(f["csms"])
    for kind, column in _SCOPE_COLUMNS.items():
        if kind in f:
            sql += f" and a.{column} = ?"
            args.append(f[kind])
    if "band" in f:
        bands = f["band"] if isinstance(f["band"], tuple) else (f["band"],)
        sql += " and h.band in (" + ", ".join("?" for _ in bands) + ")"
        args += list(bands)
    if "signal" in f:
        keys = f["signal"] if isinstance(f["signal"], tuple) else (f["signal"],)
        sql += " and (" + " or ".join("h.signals like ?" for _ in keys) + ")"
        args += [f'%"key": "{k}"%' for k in keys]
    d = date.fromisoformat(day)
    if "renew_days" in f:
        sql += " and a.renewal_date between ? and ?"
        args += [day, (d + timedelta(days=f["renew_days"])).isoformat()]
    if f.get("renew") == "this_quarter":
        end_month = (d.month - 1) // 3 * 3 + 3
        sql += " and a.renewal_date between ? and ?"
        args += [day, date(d.year, end_month, calendar.monthrange(d.year, end_month)[1]).isoformat()]
    if f.get("renew") == "next_quarter":  # the calendar quarter after this one
        first = (d.month - 1) // 3 * 3 + 4
        year, first = d.year + (first > 12), (first - 1) % 12 + 1
        sql += " and a.renewal_date between ? and ?"
        args += [
            date(year, first, 1).isoformat(),
            date(year, first + 2, calendar.monthrange(year, first + 2)[1]).isoformat(),
        ]
    if f.get("renew") == "passed":  # renewal date behind us
        sql += " and a.renewal_date < ?"
        args.append(day)
    if f.get("renew") == "none":
        sql += " and a.renewal_date is null"
    if "renew_until" in f:  # "before the end of January": from today on
        sql += " and a.renewal_date between ? and ?"
        args += [day, f["renew_until"]]
    if f.get("renew") == "next_month":
        y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        sql += " and a.renewal_date between ? and ?"
        args += [date(y, m, 1).isoformat(), date(y, m, calendar.monthrange(y, m)[1]).isoformat()]
    for key, column in (("no_touch_days", "last_touch"), ("no_login_days", "last_login"), ("no_qbr_days", "last_qbr")):
        if key in f:
            sql += (
                f" and coalesce((select max(m.{column}) from metric_snapshot m where m.account_id = a.account_id "
                "and m.as_of <= ?), '0000') < ?"
            )
            args += [day, (d - timedelta(days=f[key])).isoformat()]
    latest = (
        "(select {col} from metric_snapshot m where m.account_id = a.account_id and m.as_of <= ? "
        "order by m.as_of desc limit 1)"
    )
    if "nps_max" in f:
        sql += f" and {latest.format(col='nps')} <= ?"
        args += [day, f["nps_max"]]
    if "arr_min" in f:
        sql += " and a.arr >= ?"
        args.append(f["arr_min"])
    if "arr_max" in f:
        sql += " and a.arr <= ?"
        args.append(f["arr_max"])
    if "plan_change" in f:
        sql += f" and {latest.format(col='plan_change')} = ?"
        args += [day, f["plan_change"]]
    if f.get("overdue"):
        sql += f" and {latest.format(col='days_overdue')} > 0"
        args.append(day)
    for column, op, value in f.get("metric", ()):  # a threshold on the latest snapshot (a ratio of two columns)
        top, _, bottom = column.partition("/")
        shown = latest.format(col=top) + (f" * 1.0 / nullif({latest.format(col=bottom)}, 0)" if bottom else "")
        sql += f" and {shown} {op} ?"
        args += [day, day, value] if bottom else [day, value]
    rows = con.execute(sql, args).fetchall()
    con.close()

    # A drop is the difference of the two scores as shown (each rounded), the figures the answer prints beside it.
    def drop(r: Any) -> int:
        return round(r[5]) - round(r[2])

    if "dropped" in f:
        rows = [r for r in rows if r[5] is not None and drop(r) >= f["dropped"]]
    if "gained" in f:
        rows = [r for r in rows if r[5] is not None and -drop(r) >= f["gained"]]
    if "score_min" in f:
        rows = [r for r in rows if r[2] >= f["score_min"]]
    if "score_max" in f:
        rows = [r for r in rows if r[2] <= f["score_max"]]
    if "crossed_below" in f:  # under the line now, at or over it a month ago
        rows = [r for r in rows if r[5] is not None and r[2] < f["crossed_below"] <= r[5]]
    if "sort_metric" in f:  # (column, highest first): accounts without the figure last, then by name
        column, highest_first = f["sort_metric"]
        con = _db(engine)
        value = dict(
            con.execute(f"select a.account_id, {latest.format(col=column)} from account a", [day] * 1).fetchall()
        )
        con.close()
        rows.sort(key=lambda r: r[1])
        rows.sort(key=lambda r: -value[r[0]] if highest_first and value[r[0]] is not None else value[r[0]] or 0)
        rows.sort(key=lambda r: value[r[0]] is None)
    elif f.get("sort") == "drop":
        rows = [r for r in rows if r[5] is not None and drop(r) > 0]
        rows.sort(key=lambda r: (-drop(r), r[1]))
    elif f.get("sort") == "gain":
        rows = [r for r in rows if r[5] is not None and drop(r) < 0]
        rows.sort(key=lambda r: (drop(r), r[1]))
    elif f.get("sort") == "renewal":
        rows.sort(key=lambda r: (r[4] is None, r[4] or "", r[1]))
    elif f.get("sort") == "arr":
        rows.sort(key=lambda r: (-(r[3] or 0), r[1]))
    else:
        rows.sort(key=lambda r: (r[2], r[1]))
    ids = [r[0] for r in rows]
    if "limit" in f:
        ids = ids[: f["limit"]]
    return ids


def upsell_ready(engine: Engine) -> set[str]:
    """Accounts the export's report lists with an upsell opportunity (the same rows `healthbot export` gives)."""
    from bot.insights import UPSELL_COLUMN, report_table
    from bot.scoring_runs import load_health_model

    con = _db(engine)
    day = date.fromisoformat(scored_day(con))
    con.close()
    table = report_table(engine, load_health_model(load_settings()), as_of=day)
    return set(table.loc[table[UPSELL_COLUMN] != "", "Account ID"])


def account_id(engine: Engine, name: str) -> str:
    con = _db(engine)
    found = con.execute("select account_id from account where name = ?", (name,)).fetchone()[0]
    con.close()
    return str(found)


def group_values(engine: Engine, f: dict[str, Any], kind: str) -> set[str]:
    """The values of a column (csm, segment, region, …) among the accounts the filters select."""
    ids = expected_rows(engine, f)
    column = "csm_owner" if kind == "csm" else _SCOPE_COLUMNS[kind]
    con = _db(engine)
    values = con.execute(
        f"select distinct {column} from account where account_id in ({', '.join('?' for _ in ids)})", ids
    ).fetchall()
    con.close()
    return {str(v[0]) for v in values}


def count_accounts(engine: Engine, f: dict[str, Any]) -> int:
    return len(expected_rows(engine, f))


def judge(engine: Engine, text: str, want: Expect) -> tuple[bool, str]:
    """Whether the bot's answer to `text` is right; the reason when not."""
    got = ask(engine, text, asker=want.asker)
    kind = type(got).__name__
    if want.kind in ("card", "why", "trend", "plan", "compare") and want.accounts:
        ids = [account_id(engine, n) for n in want.accounts]
        if want.kind == "card":
            ok = isinstance(got, views.HealthCard) and got.account_id == ids[0]
        elif want.kind == "why":
            ok = isinstance(got, views.RecoveryPlan) and got.card.account_id == ids[0]
        elif want.kind == "trend":
            ok = isinstance(got, views.AccountTrend) and got.account_id == ids[0]
            if ok and want.filters.get("months"):
                ok = got.months == want.filters["months"]
        elif want.kind == "compare":
            ok = isinstance(got, views.Comparison) and [c.account_id for c in got.cards] == ids
        else:
            plan_view = {
                "success": views.SuccessPlan,
                "qbr": views.QbrPrep,
                "renewal": views.RenewalStrategy,
                "recovery": views.RecoveryPlan,
                "expansion": views.ExpansionPlan,
            }[want.plan or ""]
            ok = isinstance(got, plan_view) and got.card.account_id == ids[0]  # type: ignore[attr-defined]
        return ok, f"got {kind} {getattr(got, 'name', '') or getattr(got, 'title', '')}"
    if want.kind == "trend":
        return isinstance(got, views.TrendReport), f"got {kind}"
    if want.kind == "rows":
        if not isinstance(got, views.AccountTable):
            return False, f"got {kind} {getattr(got, 'title', '')}"
        f = dict(want.filters)
        expected = expected_rows(engine, f)
        if f.get("expansion"):
            ready = upsell_ready(engine)
            base = expected_rows(engine, {k: v for k, v in f.items() if k not in ("expansion", "limit", "sort")})
            expected_set = {a for a in base if a in ready}
            ok = set(got.account_ids) == expected_set and got.total == len(expected_set)
            return ok, f"got {sorted(got.account_ids)} want {sorted(expected_set)}"
        if "sort" in f or "limit" in f or "sort_metric" in f:
            ok = got.account_ids == expected and got.total == len(expected)
        else:
            ok = set(got.account_ids) == set(expected) and got.total == len(expected)
        if f.get("limit") == 1 and got.rows:  # "the riskiest account": named in the headline, not counted
            ok = ok and got.rows[0][0] in got.headline
        else:
            ok = ok and str(got.total) in got.headline
        return ok, f"got {got.account_ids} (total {got.total}) want {expected}"
    if want.kind == "book":
        if not isinstance(got, views.Portfolio):
            return False, f"got {kind} {getattr(got, 'title', '')}"
        scope = {k: v for k, v in want.filters.items() if k not in ("team", "group_by")}
        ok = got.total_accounts == count_accounts(engine, scope)
        if ok and "group_by" in want.filters:  # one row per value of that column among the accounts counted
            ok = {g.group for g in got.groups} == group_values(engine, scope, want.filters["group_by"])
        return ok, f"got {got.title} {got.total_accounts} {[g.group for g in got.groups]}"
    if want.kind == "changes":
        ok = isinstance(got, views.Changes)
        if ok and want.accounts:
            ok = got.accounts == 1 and want.accounts[0] in got.title
        elif ok:
            scope = {k: v for k, v in want.filters.items() if k != "days"}
            ok = got.accounts == count_accounts(engine, scope)
        if ok:
            ok = (TODAY - got.since).days >= want.filters["days"]
        return ok, f"got {kind} {getattr(got, 'title', '')}"
    if want.kind == "model":
        return isinstance(got, views.ModelExplainer), f"got {kind}"
    if want.kind == "help":
        return isinstance(got, views.Notice) and got.kind == "help", f"got {kind}"
    if want.kind == "refuse":
        return isinstance(got, views.Notice) and got.kind == "refused", f"got {kind} {getattr(got, 'title', '')}"
    if want.kind in ("no_csm", "no_scope"):
        wanted = want.filters["wanted"]
        ok = isinstance(got, views.Clarify) and wanted.casefold() in got.title.casefold()
        return ok, f"got {kind} {getattr(got, 'title', '')}"
    if want.kind == "no_account":
        wanted = want.filters["wanted"]
        ok = isinstance(got, views.Notice) and got.kind == "not_found" and wanted.casefold() in got.title.casefold()
        return ok, f"got {kind} {getattr(got, 'title', '')}"
    if want.kind == "churned":
        con = _db(engine)
        on = con.execute("select churned_on from account where name = ?", (want.accounts[0],)).fetchone()[0]
        con.close()
        said = " ".join([getattr(got, "title", ""), *getattr(got, "lines", [])])
        ok = (
            isinstance(got, views.Notice) and "churned" in said and date.fromisoformat(on).strftime("%-d %b %Y") in said
        )
        return ok, f"got {kind} {getattr(got, 'title', '')}"
    if want.kind == "former":  # logo churn over the whole book: X of the Y accounts on record, every one named
        con = _db(engine)
        lost, on_record = con.execute("select count(churned_on), count(*) from account").fetchone()
        con.close()
        said = " ".join([getattr(got, "title", ""), *getattr(got, "lines", [])])
        ok = isinstance(got, views.Notice) and f"{lost} of the {on_record} accounts on record" in said
        return ok, f"got {kind} {said[:200]}"
    if want.kind == "digest":  # the digest as sent: the team's, or the named CSM's
        recipient = want.filters.get("csm", "Team")
        return isinstance(got, views.Digest) and got.recipient == recipient, f"got {kind}"
    return False, f"unknown expectation {want.kind}"
