"""The `healthbot` command line. Each command is thin: it reads settings, opens the store and calls the
module that does the work.

Only typer and rich load with this module; each command imports what it uses (pandas, SQLAlchemy, Bolt,
openpyxl, matplotlib), so `healthbot --help` and a quick `healthbot ask` start at once (issue 15)."""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.settings import Settings
    from scoring import HealthModel


class OperatorProblem(Exception):
    """A configuration or connectivity problem the operator fixes: shown as one line, exit code 2."""


def _masked(url: str) -> str:
    """A database URL safe to print: the password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: show nothing of it rather than a secret
        return "(the configured database URL)"


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _operator_line(err: BaseException) -> str | None:
    """The one line an operator needs for a problem outside Healthbot (database, Slack, files), or None for a bug."""
    from slack_sdk.errors import SlackApiError
    from sqlalchemy.exc import DBAPIError

    from bot.store.db import StoreOutOfDate

    if isinstance(err, OperatorProblem):
        return str(err)
    if isinstance(err, DBAPIError | StoreOutOfDate):
        settings_url = _current_url.get("url")
        where = f" {_masked(settings_url)}" if settings_url else ""
        return (
            f"Could not use the database{where}: {_first_line(err)}. Check --db or DATABASE_URL, and that the "
            "database server is running and reachable."
        )
    if isinstance(err, SlackApiError):
        error = err.response.get("error") if err.response is not None else "no answer"
        return f"Slack refused the request ({error}). Check SLACK_BOT_TOKEN and that the app is installed."
    if isinstance(err, ConnectionError | TimeoutError):
        return f"Could not reach a service Healthbot needs: {_first_line(err)}. Check the network and SLACK_API_URL."
    if isinstance(err, OSError) and err.filename is not None:
        return f"Cannot use {err.filename}: {err.strerror or _first_line(err)}. Check the path and its permissions."
    return None


_current_url: dict[str, str] = {}  # the database URL of this run, for the one-line message (masked when printed)


def _scrub(text: str) -> str:
    from sqlalchemy.engine import make_url

    url = _current_url.get("url")
    password = make_url(url).password if url and "://" in url else None
    return text.replace(str(password), "***") if password else text


def _operator_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command; a configuration or connectivity problem becomes one line on stderr and exit code 2."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as err:
            line = _operator_line(err)
            if line is None:
                raise
            logger.debug("operator problem", exc_info=True)
            err_console.print(f"[red]Error:[/red] {escape(_scrub(line))}", soft_wrap=True, highlight=False)
            raise typer.Exit(2) from None

    return run


class _Healthbot(typer.Typer):
    """Every command gets the same operator-error handling, including commands added later."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:  # type: ignore[override]
        register = super().command(*args, **kwargs)
        return lambda function: register(_operator_errors(function))


app = _Healthbot(
    name="healthbot",
    help="Customer health scores, early warnings and playbooks for Customer Success teams, in Slack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
logger = logging.getLogger(__name__)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: DATABASE_URL, else sqlite:///healthbot.db)."),
]


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


class GroupBy(StrEnum):
    csm = "csm"
    segment = "segment"
    industry = "industry"
    plan_tier = "plan_tier"
    region = "region"


def _settings(db: str | None = None) -> Settings:
    from bot.settings import SettingsError, load_settings

    _modules_loaded()
    overrides: dict[str, object] = {}
    if db:
        overrides["database_url"] = db
    try:
        settings = load_settings(**overrides)
        _current_url["url"] = settings.database_url
        return settings
    except SettingsError as err:
        err_console.print(f"[red]Configuration problem:[/red] {escape(str(err))}", soft_wrap=True)
        err_console.print("Fix it in your environment or .env (see .env.example), then run the command again.")
        raise typer.Exit(2) from err


def _engine(settings: Settings) -> Engine:
    from bot.store import create_db_engine, init_db

    engine = create_db_engine(settings.database_url)
    init_db(engine)
    return engine


def _today(settings: Settings) -> date:
    """Today in the team's timezone (HEALTHBOT_TIMEZONE), not the host's."""
    return datetime.now(settings.timezone).date()


@app.command()
def demo(db: DbOption = None) -> None:
    """Load the built-in sample portfolio and print the Acme Corp card, Sarah Chen's portfolio and today's digest."""
    from bot import insights
    from bot.sample import load_sample
    from bot.scoring_runs import score_and_store
    from messages import format as fmt
    from messages.terminal import render_terminal

    settings = _settings(db)
    engine = _engine(settings)
    model = _health_model(settings)
    today = _today(settings)
    others = _accounts_outside_the_sample(engine, today)
    if others:
        err_console.print(
            f"[red]This store already holds {fmt.count(others, 'account')} that {'is' if others == 1 else 'are'} not "
            f"in the sample portfolio[/red] ({_masked(settings.database_url)}); the demo would mix 60 sample "
            "accounts into it. Run it against its own store instead: healthbot demo --db sqlite:///demo.db",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(1)
    with console.status("Loading the sample portfolio and scoring 13 months of history…"):
        report = load_sample(engine, today)
        scored = score_and_store(engine, model, as_of=today, history=True)
    console.print(
        f"[green]✓[/green] Sample portfolio in {_masked(settings.database_url)}: {report.summary()}; "
        f"{scored} scores stored.\n"
    )
    console.rule("[bold]/health Acme Corp")
    render_terminal(insights.health_card(engine, model, "ACCT-4521", as_of=today), console)
    console.rule("[bold]Show me the health distribution across Sarah's portfolio")
    render_terminal(insights.portfolio(engine, model, csm="Sarah Chen", as_of=today), console)
    console.rule("[bold]This morning's early-warning digest for Sarah Chen")
    render_terminal(insights.digest(engine, model, day=today, csm="Sarah Chen"), console)
    console.print(
        '\nNext: [bold]healthbot ask "Which health trends should worry us most this quarter?"[/bold] · '
        "[bold]healthbot export --format xlsx -o report.xlsx[/bold] · [bold]healthbot manifest[/bold] to set up Slack."
    )


def _accounts_outside_the_sample(engine: Engine, today: date) -> int:
    """How many stored accounts the sample portfolio does not have (a real book the demo must not touch)."""
    from sqlmodel import select

    from bot.sample import sample_account_ids
    from bot.store import Account, read_session

    with read_session(engine) as session:
        stored = set(session.exec(select(Account.account_id)).all())
    return len(stored - set(sample_account_ids(today)))


@app.command(name="import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="CSV or XLSX files: accounts and/or metrics.")],
    db: DbOption = None,
) -> None:
    """Load accounts and metrics files; all-or-nothing per run, every bad row reported."""
    from sqlalchemy.exc import OperationalError

    from bot.importer import ImportFailed, import_files
    from bot.store import create_db_engine

    settings = _settings(db)
    try:
        engine = create_db_engine(settings.database_url)
        report = import_files(engine, files, progress=True)
    except ImportFailed as failure:
        err_console.print(failure.format(), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from failure
    except OperationalError as err:
        err_console.print(
            f"Could not open the database {_masked(settings.database_url)}: {_first_line(err)}", markup=False
        )
        err_console.print("Check --db or DATABASE_URL. Nothing was imported.")
        raise typer.Exit(1) from err
    except Exception as err:
        logger.exception("import of %s failed", [str(file) for file in files])
        err_console.print(
            "Sorry, the import failed on our side and nothing was written. The log above has details.", soft_wrap=True
        )
        raise typer.Exit(1) from err
    for warning in report.warnings:
        err_console.print(f"Warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    console.print(report.summary(), markup=False, highlight=False, soft_wrap=True)


@app.command()
def score(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this date (YYYY-MM-DD).")] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Also store a score at every earlier snapshot date (trends from day one).")
    ] = False,
    future: Annotated[
        bool, typer.Option("--future", help="Allow an --as-of after the latest metrics (a projection).")
    ] = False,
    db: DbOption = None,
) -> None:
    """Recompute and store health scores for every account (one row per account per day).

    A day after the latest metrics is refused unless --future is given: it would become every view's "latest"
    day. After a change of model, every stored day is rescored, so no view mixes two models' scores.
    """
    # Before numpy loads: scoring multiplies no matrices worth OpenBLAS's thread pool, and a day's run forks a helper
    # process (see score_run), best done from a process without threads. A value set by the user wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from sqlalchemy import func
    from sqlmodel import select

    from bot.scoring_runs import METRICS, SCORES, score_run, unknown_override_names
    from messages import format as fmt

    settings = _settings(db)
    asked = parse_day(as_of, option="--as-of")
    day = asked or _today(settings)
    model = _health_model(settings)
    engine = _engine(settings)
    other_model = (SCORES.c.model_hash != model.fingerprint) | SCORES.c.model_hash.is_(None)
    with engine.connect() as connection:
        # Each check reads the least it can (at 100,000 accounts a whole-table pass costs a second): metrics on or
        # after the day asked end the first; the latest scored day (indexed) tells whether the model changed.
        latest_metrics = None
        if asked is not None and not future:
            newer = connection.execute(select(METRICS.c.as_of).where(METRICS.c.as_of >= asked).limit(1)).first()
            latest_metrics = None if newer else connection.execute(select(func.max(METRICS.c.as_of))).scalar()
        last_scored = select(func.max(SCORES.c.as_of)).scalar_subquery()
        changed = connection.execute(
            select(SCORES.c.account_id).where(SCORES.c.as_of == last_scored, other_model).limit(1)
        ).first()
        other_models = (
            connection.execute(select(func.count()).select_from(SCORES).where(other_model)).scalar_one()
            if changed
            else 0
        )
    latest = _as_day(latest_metrics)
    if asked is not None and latest is not None and asked > latest and not future:
        err_console.print(
            f"[red]--as-of {asked.isoformat()} is after the latest metrics ({latest.isoformat()}).[/red] A score "
            "for that day would become the latest day in every view. Import newer metrics, or add --future to "
            "store a projection anyway.",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(2)
    if other_models and not history:
        err_console.print(
            f"The model changed since {fmt.count(other_models, 'stored score')} were made: rescoring every stored "
            f"day with {model.label}.",
            soft_wrap=True,
            highlight=False,
        )
        history = True
    for warning in unknown_override_names(engine, model):
        err_console.print(f"Warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    # A day's run has half its accounts scored on the second core, when there is one (see score_run).
    run = score_run(engine, model, as_of=day, history=history, workers=min(2, os.cpu_count() or 1))
    scored = run.accounts
    if scored == 0:
        err_console.print(
            f"[yellow]No account has metrics on or before {day.isoformat()}[/yellow], so nothing was scored. "
            "Load data first: healthbot import FILE… (or healthbot demo)."
        )
        raise typer.Exit(1)
    counts = dict(run.bands)  # as stored: the run replaced the day's every row
    bands = " · ".join(f"{counts.get(b.name, 0)} {b.name}" for b in model.bands)
    console.print(f"Scored {fmt.count(scored, 'account')} as of {day.isoformat()} with the {model.name} model: {bands}")
    console.print(run.summary(), markup=False, highlight=False)


@app.command()
def ask(
    text: Annotated[str, typer.Argument(help='A question, e.g. "What\'s the health score for Acme Corp?"')],
    user: Annotated[str | None, typer.Option("--user", help="Ask as this CSM (name or Slack ID).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the Block Kit payload instead.")] = False,
    db: DbOption = None,
) -> None:
    """Answer a question exactly as the bot would in Slack."""
    # Before numpy loads: one answer multiplies no matrices worth a second thread, and starting OpenBLAS's thread pool
    # costs about a tenth of this command (issue 15). A value set by the user wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from bot.answers import AnswerContext, answer
    from bot.intents import parse_question
    from messages.terminal import render_terminal
    from messages.views import Notice

    settings = _settings(db)
    ctx = AnswerContext(engine=_engine(settings), settings=settings, user_name=user, today=_today(settings))
    view = answer(parse_question(text), ctx=ctx)
    if json_:
        from messages.blockkit import render_message  # Jinja2 and the templates: only for --json

        print(json.dumps(render_message(view), indent=2, ensure_ascii=False))
    else:
        render_terminal(view, console)
    if isinstance(view, Notice) and view.kind in ("error", "not_found"):
        raise typer.Exit(1)


@app.command()
def digest(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the digests instead of posting.")] = False,
    date_: Annotated[str | None, typer.Option("--date", help="Digest for this day (YYYY-MM-DD).")] = None,
    db: DbOption = None,
) -> None:
    """Build today's early-warning digests and post them (each once per day and destination)."""
    from bot import insights
    from bot.digests import build_digests, send_digests
    from bot.routing import csm_routes
    from bot.slack.people import SlackPeople
    from bot.store import create_db_engine, init_db
    from bot.teams.delivery import reachable_in_teams, teams_delivery
    from messages.terminal import render_terminal

    settings = _settings(db)
    day = parse_day(date_, option="--date") or datetime.now(settings.timezone).date()
    engine = create_db_engine(settings.database_url)
    init_db(engine)
    model, routing = _health_model(settings), _routing(settings)
    try:
        if dry_run:
            cached_only = SlackPeople(client=None, engine=engine)  # a dry run asks Slack nothing
            routes = csm_routes(engine, cached_only, routing)
            for item in build_digests(
                engine, model, day=day, routes=routes, team_channel=settings.healthbot_digest_channel
            ):
                console.rule(f"to {item.destination or 'nobody (unreachable)'}")
                render_terminal(item.digest, console)
            return
        teams = teams_delivery(settings, engine)
        surface = _slack_surface(settings, engine, doing="post the digests", required=teams is None)
        reachable = reachable_in_teams(engine) if teams is not None else set()
        run = send_digests(
            engine,
            surface,
            settings,
            model,
            day=day,
            routing=routing,
            people=surface.people if surface is not None else None,
            reachable_elsewhere=reachable,
        )
        teams_run = teams.send_digests(model, day=day, routing=routing) if teams is not None else None
    except insights.NoScoresError as err:
        err_console.print(f"[yellow]{err.title}.[/yellow] {' '.join(err.lines)}")
        raise typer.Exit(1) from err
    if surface is not None:
        console.print(run.summary(), markup=False, highlight=False)
    if teams_run is not None:
        console.print(teams_run.summary("digest"), markup=False, highlight=False)
    if run.not_delivered or (teams_run is not None and teams_run.not_delivered):
        raise typer.Exit(1)


@app.command()
def alerts(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the alerts instead of posting.")] = False,
    db: DbOption = None,
) -> None:
    """Detect new red and early-warning alerts and post each once."""
    from datetime import UTC

    from bot.alerts import AlertDesk
    from bot.store import create_db_engine, init_db
    from bot.teams.delivery import teams_delivery
    from messages import format as fmt
    from messages.terminal import render_terminal

    settings = _settings(db)
    engine = create_db_engine(settings.database_url)
    init_db(engine)
    model = _health_model(settings)
    desk = AlertDesk(engine=engine, settings=settings, playbooks=_playbooks(settings), routing=_routing(settings))
    bands, now = [band.name for band in model.bands], datetime.now(UTC)
    if dry_run:
        previews = desk.preview(bands=bands, now=now)
        for view in previews:
            render_terminal(view, console)
        console.print(f"{fmt.count(len(previews), 'alert')} would be opened; nothing was stored or posted.")
        return
    # Like `digest`: without a token (Slack's, or Teams' credentials) nothing is done and the command says how to
    # fix it (exit 2).
    teams = teams_delivery(settings, engine)
    desk.surface = _slack_surface(settings, engine, doing="post alerts", required=teams is None)
    run = desk.scan(bands=bands, now=now)
    console.print(run.summary(), markup=False, highlight=False)
    teams_run = teams.post_alerts(desk.playbooks, now=now) if teams is not None else None
    if teams_run is not None:
        console.print(teams_run.summary("alert"), markup=False, highlight=False)
    if run.not_delivered or (teams_run is not None and teams_run.not_delivered):
        raise typer.Exit(1)


@app.command()
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write; - for standard output.")],
    format_: Annotated[
        ExportFormat | None, typer.Option("--format", help="csv or xlsx (default: from the file's extension).")
    ] = None,
    group_by: Annotated[GroupBy | None, typer.Option("--group-by", help="Group the report.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The report as scored on this date.")] = None,
    csm: Annotated[str | None, typer.Option("--csm", help="Only this CSM's accounts (full or first name).")] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Only this segment's accounts.")] = None,
    db: DbOption = None,
) -> None:
    """Write the portfolio report table as CSV or XLSX."""
    import sys
    import tempfile

    from bot import insights
    from bot.export import ExportError, export_report, report_format
    from messages import format as fmt

    to_stdout = str(output) == "-"
    try:
        chosen = report_format(output, "xlsx" if format_ == ExportFormat.xlsx else "csv" if format_ else None)
    except ExportError as err:
        err_console.print(f"[red]{escape(str(err))}[/red]", soft_wrap=True)
        raise typer.Exit(2) from err
    settings = _settings(db)
    day = parse_day(as_of, option="--as-of")
    model = _health_model(settings)
    engine = _engine(settings)
    grouping = group_by.value if group_by else None
    # Standard output gets the file's bytes and nothing else; what the command says goes to stderr.
    say = err_console if to_stdout else console
    try:
        with tempfile.TemporaryDirectory() as scratch:
            target = Path(scratch) / f"report.{chosen}" if to_stdout else output
            with say.status(f"Writing the {chosen.upper()} report…"):
                result = export_report(
                    engine, model, target, format=chosen, as_of=day, group_by=grouping, csm=csm, segment=segment
                )
            if to_stdout:
                sys.stdout.buffer.write(target.read_bytes())
                sys.stdout.buffer.flush()
    except insights.NoScoresError as err:
        err_console.print(f"[red]{err.title}.[/red] {' '.join(err.lines)}", soft_wrap=True)
        raise typer.Exit(1) from err
    except ExportError as err:
        err_console.print(f"[red]{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from err
    sheets = f" · sheets: {', '.join(result.sheets)}" if result.sheets else ""
    # soft_wrap: a path broken across lines can't be copied.
    where = "standard output" if to_stdout else str(result.path)
    wrote = f"Wrote {fmt.count(result.rows, 'account')} scored on {result.as_of} to {where}{sheets}"
    say.print(f"[green]✓[/green] {escape(wrote)}", soft_wrap=True, highlight=False)
    if result.summary is not None:
        summary = result.summary
        say.print(
            f"  {summary.at_risk_accounts:,} at risk ({fmt.money(summary.at_risk_arr)} ARR) · "
            f"{summary.upsell_ready_count:,} upsell-ready ({fmt.money(summary.upsell_ready_arr)} ARR)",
            highlight=False,
        )


@app.command()
def backtest(
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", min=1, max=730, help="Churn within this many days.")
    ] = 90,
    json_: Annotated[bool, typer.Option("--json", help="Print every figure as JSON.")] = False,
    write_model: Annotated[
        Path | None,
        typer.Option("--write-model", help="Save the learned model here (only when it predicts better out of time)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Measure how well the score predicts churn, which measures do, and learn a better model from the history."""
    import json

    from bot.scoring_runs import NothingToBacktest, backtest_store
    from scoring.backtest import describe as describe_backtest
    from scoring.backtest import not_written_reason

    settings = _settings(db)
    model = _health_model(settings)
    engine = _engine(settings)
    try:
        result = backtest_store(engine, model, horizon_days=horizon_days, learn=True, day=_today(settings))
    except NothingToBacktest as err:
        err_console.print(f"[yellow]Nothing to backtest yet.[/yellow] {err}")
        raise typer.Exit(1) from err
    if json_:
        typer.echo(json.dumps(asdict(result), indent=2))
    else:
        for line in describe_backtest(result, model):
            # One figure a line, never re-wrapped: the report is read in terminals and pasted into documents.
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    if write_model is not None:
        learned = result.learned
        if learned is None or not learned.accepted:
            reason = f"No model file written. {not_written_reason(result)}"
            err_console.print(reason, markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1)
        write_model.write_text(learned.model_file, encoding="utf-8")
        saved = f"Saved the learned model to {write_model}. Set HEALTHBOT_MODEL={write_model} to use it."
        err_console.print(saved, markup=False, highlight=False, soft_wrap=True)


def _health_model(settings: Settings) -> HealthModel:
    """The configured health model, or exit 2 with the model file's (or the playbooks file's) problem in plain
    words."""
    from bot.scoring_runs import load_health_model
    from scoring import ModelError
    from scoring.playbooks import PlaybookFileError

    try:
        return load_health_model(settings)
    except ModelError as err:
        err_console.print(f"[red]Health model problem:[/red] {escape(str(err))}", soft_wrap=True)
        err_console.print("Fix the file HEALTHBOT_MODEL points at (or unset it for the built-in default).")
        raise typer.Exit(2) from err
    except PlaybookFileError as err:
        err_console.print(f"[red]Playbooks file problem:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(2) from err


@app.command()
def serve(port: Annotated[int, typer.Option("--port", help="HTTP port (HTTP mode).")] = 3000) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on --port."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from bot.settings import SettingsError
    from bot.slack import server

    settings = _settings()
    server.configure_logging(settings)
    try:
        _check_slack_credentials(settings)
        if settings.slack_app_token:
            server.run_socket_mode(settings)
        else:
            server.run_http(settings, port=port)
    except SettingsError as err:
        err_console.print(f"[red]Configuration problem:[/red] {err}")
        raise typer.Exit(2) from err
    except BoltError as err:
        err_console.print(
            "[red]Slack refused the bot token.[/red] Check SLACK_BOT_TOKEN (OAuth & Permissions page, xoxb-…) "
            "and that the app is installed in your workspace."
        )
        raise typer.Exit(2) from err
    except SlackApiError as err:
        error = err.response.get("error") if err.response is not None else "no answer"
        err_console.print(
            f"[red]Slack refused the app-level token ({error}).[/red] Check SLACK_APP_TOKEN (Basic Information → "
            "App-Level Tokens, xapp-…, with the connections:write scope) and that Socket Mode is enabled."
        )
        raise typer.Exit(2) from err


def _check_slack_credentials(settings: Settings) -> None:
    """HTTP mode: refuse to start with a signing secret that cannot be one, or a bot token Slack refuses — here,
    before gunicorn's workers start and report it as tracebacks."""
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import create_web_client

    secret = settings.slack_signing_secret
    if settings.slack_app_token or secret is None or settings.slack_bot_token is None:
        return  # Socket Mode checks its tokens in this process; a missing setting is named by create_app
    if len(secret) != 32 or not secret.isalnum():
        raise OperatorProblem(
            "SLACK_SIGNING_SECRET is not a Slack signing secret: it has 32 letters and digits (Basic Information → "
            "App Credentials → Signing Secret), not a token or the verification token."
        )
    try:
        create_web_client(settings).auth_test()
    except SlackApiError as err:
        error = err.response.get("error") if err.response is not None else "no answer"
        raise OperatorProblem(
            f"Slack refused SLACK_BOT_TOKEN ({error}). Copy the Bot User OAuth Token (xoxb-…) from OAuth & "
            "Permissions, and check the app is installed in your workspace."
        ) from err


@app.command()
def scheduler(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check the setup and print what the jobs would do now; post nothing."),
    ] = False,
) -> None:
    """Run the scheduled jobs (digests, alert scans) in their own process."""
    import signal

    from bot.scheduler import create_scheduler, standard_jobs
    from bot.slack import server
    from bot.store import create_db_engine, init_db
    from bot.teams.delivery import teams_delivery

    settings = _settings()
    server.configure_logging(settings)
    engine = create_db_engine(settings.database_url)
    init_db(engine)
    if dry_run:
        _scheduler_dry_run(settings, engine)
        return
    teams = teams_delivery(settings, engine)
    client = _slack_client(settings, doing="post digests and alerts", required=teams is None)
    jobs = standard_jobs(
        settings,
        engine=engine,
        client=client,
        teams=teams,
        model=_health_model(settings),
        playbooks=_playbooks(settings),
        routing=_routing(settings),
    )
    runner = create_scheduler(settings, jobs=jobs)
    signal.signal(signal.SIGTERM, lambda *_: runner.shutdown(wait=False))  # the platform stopping the worker
    console.print(
        f"Digest every day at {settings.healthbot_digest_time} ({settings.healthbot_timezone}); alert scan every "
        f"{settings.healthbot_alert_scan_minutes} minutes. Ctrl-C to stop.",
        markup=False,
        highlight=False,
    )
    with contextlib.suppress(KeyboardInterrupt, SystemExit):  # Ctrl-C: a clean stop, not a traceback
        runner.start()


def _scheduler_dry_run(settings: Settings, engine: Engine) -> None:
    """What `healthbot scheduler` would do now, from the same settings, model and store; nothing is posted."""
    from bot.alerts import AlertDesk
    from bot.digests import build_digests
    from bot.routing import csm_routes
    from bot.scheduler import todays_digest_time
    from bot.slack.people import SlackPeople
    from messages import format as fmt

    model, playbooks, routing = _health_model(settings), _playbooks(settings), _routing(settings)
    now = datetime.now(settings.timezone)
    due = todays_digest_time(settings, now)
    when = "runs at once (its time has passed; it still goes out today)" if due <= now else f"at {due:%H:%M}"
    console.print(
        f"Digest: every day at {settings.healthbot_digest_time} ({settings.healthbot_timezone}); today's {when}.",
        markup=False,
        highlight=False,
    )
    if _scored_on(engine, now.date()):
        cached_only = SlackPeople(client=None, engine=engine)  # a dry run asks Slack nothing
        routes = csm_routes(engine, cached_only, routing)
        built = build_digests(
            engine, model, day=now.date(), routes=routes, team_channel=settings.healthbot_digest_channel
        )
        reachable = sum(item.destination is not None for item in built)
        console.print(f"  {fmt.count(len(built), 'digest')} to build, {reachable} with a destination.", highlight=False)
    else:
        console.print("  Today is not scored yet: the digest job scores it first.", highlight=False)
    desk = AlertDesk(engine=engine, settings=settings, playbooks=playbooks, routing=routing)
    alerts = desk.preview(bands=[band.name for band in model.bands], now=now)
    console.print(
        f"Alert scan: every {settings.healthbot_alert_scan_minutes} minutes; a scan now would open "
        f"{fmt.count(len(alerts), 'alert')}.",
        highlight=False,
    )
    token = "set" if settings.slack_bot_token else "NOT set: the scheduler will refuse to start without it"
    console.print(f"SLACK_BOT_TOKEN is {token}. Dry run: nothing was stored or posted.", highlight=False)


def _scored_on(engine: Engine, day: date) -> bool:
    from sqlmodel import select

    from bot.store import HealthScore, read_session

    with read_session(engine) as session:
        found = session.exec(select(HealthScore.account_id).where(HealthScore.as_of == day).limit(1)).first()
    return found is not None


def _routing(settings: Settings) -> Any:
    """The routing file's channels, or exit 2 with the file's problem in plain words."""
    from bot.routing import load_routing

    return _operator_file(lambda: load_routing(settings.healthbot_routing), "Routing file")


def _playbooks(settings: Settings) -> Any:
    """The playbooks in force, or exit 2 with the file's problem in plain words."""
    from bot.playbook_runs import load_playbooks

    return _operator_file(lambda: load_playbooks(settings.healthbot_playbooks), "Playbooks file")


def _operator_file(load: Any, what: str) -> Any:
    # Both files' errors are ValueErrors whose message names the file, the entry and what to write instead.
    try:
        return load()
    except ValueError as err:
        err_console.print(f"[red]{what} problem:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(2) from err


def _slack_client(settings: Settings, *, doing: str, required: bool = True) -> Any:
    """The Web API client, or (when required) exit 2 saying the token is missing; None when optional and unset."""
    from bot.slack.app import create_web_client

    if settings.slack_bot_token is None:
        if not required:
            return None
        err_console.print(
            f"[red]SLACK_BOT_TOKEN is not set[/red], so Healthbot cannot {doing}. Set it (see .env.example), "
            "or use --dry-run to print instead."
        )
        raise typer.Exit(2)
    return create_web_client(settings)


def _slack_surface(settings: Settings, engine: Engine, *, doing: str, required: bool = True) -> Any:
    """Slack as the core posts to it (see _slack_client for a missing token)."""
    from bot.slack.surface import SlackSurface

    client = _slack_client(settings, doing=doing, required=required)
    return None if client is None else SlackSurface.create(engine, settings, client)


@app.command()
def manifest(
    url: Annotated[
        str | None,
        typer.Option("--url", help="Public HTTPS URL for HTTP mode (else the manifest uses Socket Mode)."),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="The app's name in your workspace.")] = "Healthbot",
) -> None:
    """Print the Slack app manifest (YAML) that creates this app."""
    from bot.slack.manifest import manifest_yaml

    if url is not None and not url.startswith("https://"):
        err_console.print(f"[red]--url '{url}' must start with https://[/red] (Slack only calls HTTPS URLs).")
        raise typer.Exit(2)
    typer.echo(manifest_yaml(public_url=url, name=name), nl=False)


def _as_day(value: Any) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@app.command(name="serve-teams")
def serve_teams(
    port: Annotated[int, typer.Option("--port", help="HTTP port for POST /api/messages.")] = 3978,
    dev: Annotated[
        bool, typer.Option("--dev", help="No Teams credentials: listen on 127.0.0.1 only, requests NOT authenticated.")
    ] = False,
) -> None:
    """Run the Microsoft Teams app: POST /api/messages and GET /healthz on --port."""
    import asyncio

    from bot.settings import SettingsError
    from bot.slack import server
    from bot.teams.app import create_teams_app

    settings = _settings()
    server.configure_logging(settings)
    try:
        bot = create_teams_app(settings, engine=_engine(settings), port=port, dev=dev)
    except SettingsError as err:
        err_console.print(f"[red]Configuration problem:[/red] {err}")
        raise typer.Exit(2) from err
    if dev:
        err_console.print(
            "[bold red]DEVELOPMENT MODE: requests to /api/messages are NOT authenticated.[/bold red] Listening on "
            f"127.0.0.1:{port} only; anyone on this machine can act as any Teams user. Never expose this port."
        )
    console.print(f"Teams app listening on {bot.host}:{port} (POST /api/messages, GET /healthz). Ctrl-C to stop.")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(bot.serve())


@app.command(name="teams-manifest")
def teams_manifest(
    out: Annotated[Path, typer.Option("--out", help="Where to write the app package (zip).")] = Path(
        "healthbot-teams.zip"
    ),
    name: Annotated[str, typer.Option("--name", help="The app's name in Teams.")] = "Healthbot",
    website_url: Annotated[
        str | None, typer.Option("--website-url", help="https page about the app (default: TEAMS_PUBLIC_URL).")
    ] = None,
    app_id: Annotated[
        str | None, typer.Option("--app-id", help="The Teams app's own GUID (default: TEAMS_CLIENT_ID).")
    ] = None,
) -> None:
    """Write the Teams app package: manifest.json and two icons, ready to upload in Teams."""
    import re

    from bot.teams.manifest import package

    settings = _settings()
    bot_id = settings.teams_client_id
    guid = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
    if not bot_id or not guid.match(bot_id):
        err_console.print(
            "[red]TEAMS_CLIENT_ID is not set (or is not a GUID)[/red]: the package names the bot by it. Copy the "
            "Microsoft App ID from your Azure Bot's Configuration page into TEAMS_CLIENT_ID, then run this again."
        )
        raise typer.Exit(2)
    if app_id is not None and not guid.match(app_id):
        err_console.print(f"[red]--app-id '{app_id}' is not a GUID[/red] like 00000000-0000-0000-0000-000000000000.")
        raise typer.Exit(2)
    website = website_url or settings.teams_public_url
    if not website or not website.startswith("https://"):
        err_console.print(
            "[red]Teams needs an https page about the app.[/red] Pass --website-url https://… or set TEAMS_PUBLIC_URL."
        )
        raise typer.Exit(2)
    domain = website.removeprefix("https://").split("/")[0]
    try:
        out.write_bytes(package(app_id=app_id or bot_id, bot_id=bot_id, name=name, website=website, domain=domain))
    except OSError as err:
        err_console.print(f"[red]Could not write {out}:[/red] {err.strerror}. Choose another path with --out.")
        raise typer.Exit(1) from err
    console.print(f"Wrote {out}: upload it in Teams → Apps → Manage your apps → Upload an app.", markup=False)


def parse_day(value: str | None, *, option: str) -> date | None:
    """Parse an ISO date option, or exit with a message naming the option and the expected form."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        err_console.print(f"[red]{option} '{value}' is not a date.[/red] Use YYYY-MM-DD, e.g. 2026-11-24.")
        raise typer.Exit(2) from err


def main() -> None:
    # Loading a command's modules (pandas, SQLAlchemy, the store's tables) makes a few hundred thousand objects that
    # live as long as the process; the cyclic garbage collector would walk them again and again, finding nothing (a
    # sixth of `healthbot ask`). It stays off until the command has its modules and reads its settings.
    gc.disable()
    app()


def _modules_loaded() -> None:
    """The command has imported what it needs: what exists now lives until exit, so the collector, back on, leaves
    it out (gc.freeze). Does nothing when main() did not switch the collector off (the tests' CliRunner)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
