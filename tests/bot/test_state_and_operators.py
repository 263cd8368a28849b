"""State that must not go stale, and operator mistakes answered in one line (issue 11).

Each test here failed before the change it guards: stale CSM contacts after a reassignment, scores that forgot
their model, a future --as-of that became every view's "latest" day, a demo mixed into a real book, tracebacks
and printed passwords for an unreachable database, `alerts` and `digest` disagreeing without a token, a
`scheduler --dry-run` that did not exist, a first day that announced "new since yesterday" and opened no alert.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from bot import insights
from bot.alerts import detect
from bot.cli import app
from bot.importer import import_frames
from bot.store import Account, HealthScore, create_db_engine, init_db, read_session
from messages.blockkit import render_message
from scoring import load_model
from tests.slack_api import BOT_TOKEN, SlackApiStandIn

DAY = date(2026, 11, 24)
PASSWORD = "s3cret-pw"
UNREACHABLE = f"postgresql://healthbot:{PASSWORD}@127.0.0.1:1/healthbot"  # nothing listens on port 1


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _accounts(**columns: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "account_id": ["A1", "A2"],
        "name": ["Acme Corp", "Globex"],
        "csm_owner": ["Sarah Chen", "Sarah Chen"],
    }
    return pd.DataFrame({**base, **columns})


def _metrics(days: list[date]) -> pd.DataFrame:
    rows = []
    for day in days:
        rows.append({"account_id": "A1", "as_of": day, "active_users": 5, "seats_purchased": 25, "days_overdue": 45})
        rows.append({"account_id": "A2", "as_of": day, "active_users": 24, "seats_purchased": 25, "nps": 9})
    return pd.DataFrame(rows)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[tuple[str, Engine]]:
    engine = create_db_engine(sqlite_url)
    init_db(engine)
    import_frames(engine, accounts=_accounts(csm_slack_id=["U0SARAH", "U0SARAH"]), metrics=_metrics([DAY]))
    yield sqlite_url, engine
    engine.dispose()


# --- operators ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [
        ["score"],
        ["ask", "How is Acme Corp?"],
        ["digest", "--dry-run"],
        ["alerts", "--dry-run"],
        ["export", "--format", "csv", "-o", "report.csv"],
        ["demo"],
        ["backtest"],
    ],
)
def test_an_unreachable_database_is_one_line_and_no_password(command: list[str]) -> None:
    code, output = run(*command, "--db", UNREACHABLE)
    assert code == 2, output
    assert "Traceback" not in output and PASSWORD not in output
    assert "Could not use the database postgresql://healthbot:***@127.0.0.1:1/healthbot" in output
    assert len(output.strip().splitlines()) <= 3  # one message (wrapped at most twice), not 145 lines


def test_a_failed_import_never_prints_the_password(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    _accounts().to_csv(accounts, index=False)
    code, output = run("import", str(accounts), "--db", UNREACHABLE)
    assert code != 0 and PASSWORD not in output and "Traceback" not in output


def test_an_unwritable_export_path_is_one_line(store: tuple[str, Engine], tmp_path: Path) -> None:
    url, _ = store
    assert run("score", "--db", url, "--as-of", DAY.isoformat())[0] == 0
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where a folder should be")
    code, output = run("export", "--format", "csv", "-o", str(blocked / "r.csv"), "--db", url)
    assert code != 0 and "Traceback" not in output
    assert str(blocked) in output.replace("\n", "")


def test_alerts_and_digest_behave_alike_without_a_token(store: tuple[str, Engine]) -> None:
    url, _ = store
    run("score", "--db", url, "--as-of", DAY.isoformat())
    for command in (["alerts"], ["digest", "--date", DAY.isoformat()]):
        code, output = run(*command, "--db", url)
        assert code == 2 and "SLACK_BOT_TOKEN is not set" in output and "--dry-run" in output, command


def test_scheduler_dry_run_checks_the_setup_and_posts_nothing(store: tuple[str, Engine]) -> None:
    url, _ = store
    with SlackApiStandIn() as slack:
        result = CliRunner().invoke(app, ["scheduler", "--dry-run"], env={"DATABASE_URL": url})
        assert result.exit_code == 0, result.output
        assert "Digest: every day at 08:30" in result.output and "Alert scan: every 15 minutes" in result.output
        assert "nothing was stored or posted" in result.output and slack.calls == []


def test_serve_refuses_a_malformed_signing_secret_and_a_refused_token_in_one_line() -> None:
    with SlackApiStandIn() as slack:
        env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.base_url, "SLACK_SIGNING_SECRET": "xoxb-oops"}
        result = CliRunner().invoke(app, ["serve", "--port", "0"], env=env)
        assert result.exit_code == 2 and "SLACK_SIGNING_SECRET is not a Slack signing secret" in result.output
        env = {**env, "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99aaabbb85a5", "SLACK_BOT_TOKEN": "xoxb-1-revoked"}
        result = CliRunner().invoke(app, ["serve", "--port", "0"], env=env)
        assert result.exit_code == 2 and "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in result.output
        assert "Traceback" not in result.output and [c.method for c in slack.calls] == ["auth.test"]


# --- state ---------------------------------------------------------------------------------------------------------
def test_a_reassigned_account_loses_the_old_csms_contacts_and_the_import_says_so(store: tuple[str, Engine]) -> None:
    _, engine = store
    moved = _accounts().assign(csm_owner=["Priya Patel", "Sarah Chen"])
    report = import_frames(engine, accounts=moved)
    with read_session(engine) as session:
        acme, globex = session.get(Account, "A1"), session.get(Account, "A2")
    assert acme is not None and globex is not None
    assert (acme.csm_owner, acme.csm_slack_id) == ("Priya Patel", None)  # Priya's digest no longer goes to Sarah
    assert globex.csm_slack_id == "U0SARAH"  # not moved: kept
    assert any("A1: Sarah Chen → Priya Patel" in w and "cleared" in w for w in report.warnings)


def test_a_reassignment_with_the_new_contact_keeps_it(store: tuple[str, Engine]) -> None:
    _, engine = store
    report = import_frames(engine, accounts=_accounts(csm_owner=["Priya Patel"] * 2, csm_slack_id=["U0PRIYA"] * 2))
    with read_session(engine) as session:
        assert {a.csm_slack_id for a in session.exec(select(Account)).all()} == {"U0PRIYA"}
    assert not report.warnings


def test_scores_remember_their_model_and_a_model_change_rescores(
    store: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = store
    default, four = load_model(None), load_model("four-band")
    assert run("score", "--db", url, "--as-of", DAY.isoformat())[0] == 0
    with read_session(engine) as session:
        assert {(s.model_name, s.model_hash) for s in session.exec(select(HealthScore))} == {
            (default.name, default.fingerprint)
        }
    assert insights.health_card(engine, default, "A1", as_of=DAY).model_note is None
    card = insights.health_card(engine, four, "A1", as_of=DAY)  # the model in force changed since
    assert card.model_note is not None and default.fingerprint in card.model_note and four.label in card.model_note
    assert four.label in str(render_message(card))

    monkeypatch.setenv("HEALTHBOT_MODEL", "four-band")
    code, output = run("score", "--db", url, "--as-of", DAY.isoformat())
    assert code == 0 and "The model changed" in output
    with read_session(engine) as session:
        assert {s.model_hash for s in session.exec(select(HealthScore))} == {four.fingerprint}
    assert insights.health_card(engine, four, "A1", as_of=DAY).model_note is None


def test_a_score_after_the_latest_metrics_needs_future(store: tuple[str, Engine]) -> None:
    url, engine = store
    code, output = run("score", "--db", url, "--as-of", "2027-06-01")
    assert code == 2 and "after the latest metrics (2026-11-24)" in output and "--future" in output
    with read_session(engine) as session:
        assert session.exec(select(HealthScore)).first() is None  # nothing became the "latest" day
    assert run("score", "--db", url, "--as-of", "2027-06-01", "--future")[0] == 0


def test_demo_refuses_a_store_holding_other_accounts(store: tuple[str, Engine]) -> None:
    url, engine = store
    code, output = run("demo", "--db", url)
    assert code == 1 and "2 accounts that are not in the sample portfolio" in output
    with read_session(engine) as session:
        assert len(session.exec(select(Account)).all()) == 2  # no sample account mixed in


# --- the first day -------------------------------------------------------------------------------------------------
def test_the_first_day_is_a_day_like_any_other(store: tuple[str, Engine]) -> None:
    _, engine = store
    model = load_model(None)
    from bot.scoring_runs import score_and_store

    score_and_store(engine, model, as_of=DAY)
    digest = insights.digest(engine, model, day=DAY)
    text = str(render_message(digest))
    assert digest.since is None and "since yesterday" not in text and "Red on the first scored day" in text
    bands = [b.name for b in model.bands]
    found = {d.account_id: d for d in detect(engine, bands=bands)}
    assert set(found) == {"A1"} and "found at the first scan" in found["A1"].title  # Red, payment overdue

    import_frames(engine, metrics=_metrics([DAY + timedelta(days=1)]))
    score_and_store(engine, model, as_of=DAY + timedelta(days=1))
    later = insights.digest(engine, model, day=DAY + timedelta(days=1))
    assert later.since == DAY and later.new_since == "since yesterday"
    assert later.new_reds == []  # Acme was red yesterday too: nothing new


# --- export wording ------------------------------------------------------------------------------------------------
def test_export_to_standard_output_format_from_the_name_and_a_bom(store: tuple[str, Engine], tmp_path: Path) -> None:
    url, _ = store
    run("score", "--db", url, "--as-of", DAY.isoformat())
    result = CliRunner().invoke(app, ["export", "-o", "-", "--db", url])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith("\ufeffAccount ID,Account Name".encode())  # Excel reads UTF-8 with a BOM
    assert not Path("-").exists()
    code, output = run("export", "--format", "csv", "-o", str(tmp_path / "r.xlsx"), "--db", url)
    assert code == 2 and "does not match the file name" in output and not (tmp_path / "r.xlsx").exists()
    assert run("export", "-o", str(tmp_path / "r.xlsx"), "--db", url)[0] == 0
    assert (tmp_path / "r.xlsx").read_bytes()[:2] == b"PK"  # an XLSX (a zip), as the name says


# --- model files ---------------------------------------------------------------------------------------------------
def test_a_model_file_reports_every_problem_with_file_and_key(tmp_path: Path) -> None:
    model = tmp_path / "mine.toml"
    model.write_text(
        'extends = "default"\n'
        "[portfolio]\nhealthy_span = 0\n"
        "[signals.usage_drop]\nwhen = [1, 2]\n"
        '[dimensions.usage]\nmetrics = [{ measure = "seat_utilisation", points = [[0.2, nan], [0.8, 100]] }]\n'
        '[signals.broken]\ntitle = "Broken"\nwhen = [["nps", "<", inf]]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["score"], env={"HEALTHBOT_MODEL": str(model)})
    output = result.output.replace("\n", " ")
    assert result.exit_code == 2 and "5 problems in the health model" in output, output
    for key in ("portfolio.healthy_span", "signals.usage_drop.when[0]", "points", "signals.broken.when[0]"):
        assert key in output, key
    assert str(model) in output
    assert "must be [measure, operator, value] with operator" in output  # not eaten as terminal markup
    assert "finite number" in output


def test_a_mistyped_extends_names_its_file() -> None:
    from scoring import ModelError, parse_model

    with pytest.raises(ModelError, match="extends = 'defualt' is neither a file"):
        parse_model('extends = "defualt"', source="team.toml")


def test_an_override_no_account_has_is_warned_with_the_names_present(store: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = store
    import_frames(engine, accounts=_accounts(segment=["Enterprise", "SMB"]))
    model = tmp_path / "typo.toml"
    model.write_text(
        'extends = "default"\n[segments.Enterprize]\nweights = { usage = 40, support = 20, financial = 20, '
        "sentiment = 10, engagement = 10 }\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["score", "--db", url, "--as-of", DAY.isoformat()], env={"HEALTHBOT_MODEL": str(model)}
    )
    assert result.exit_code == 0, result.output
    assert "[segments.enterprize] matches no account; segments in your data: enterprise, smb" in result.output
