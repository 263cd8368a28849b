"""The `healthbot` command line. Each command is thin: it reads settings, opens the store and calls the
module that does the work."""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import asdict
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.importer import ImportFailed, import_files
from bot.scoring_runs import NothingToBacktest, backtest_store, load_health_model, score_and_store
from bot.settings import Settings, SettingsError, load_settings
from bot.store import HealthScore, create_db_engine, init_db, read_session
from messages import format as fmt
from messages.views import Notice
from scoring import HealthModel, ModelError, refined_model_text
from scoring.backtest import describe as describe_backtest
from scoring.backtest import refinement_notes
from scoring.playbooks import PlaybookFileError

app = typer.Typer(
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
    overrides: dict[str, object] = {}
    if db:
        overrides["database_url"] = db
    try:
        return load_settings(**overrides)
    except SettingsError as err:
        err_console.print(f"[red]Configuration problem:[/red] {err}")
        err_console.print("Fix it in your environment or .env (see .env.example), then run the command again.")
        raise typer.Exit(2) from err


def _engine(settings: Settings) -> Engine:
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
    from messages.terminal import render_terminal

    settings = _settings(db)
    engine = _engine(settings)
    model = _health_model(settings)
    today = _today(settings)
    with console.status("Loading the sample portfolio and scoring 13 months of history…"):
        report = load_sample(engine, today)
        scored = score_and_store(engine, model, as_of=today, history=True)
    console.print(
        f"[green]✓[/green] Sample portfolio in {settings.database_url}: {report.summary()}; {scored} scores stored.\n"
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


@app.command(name="import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="CSV or XLSX files: accounts and/or metrics.")],
    db: DbOption = None,
) -> None:
    """Load accounts and metrics files; all-or-nothing per run, every bad row reported."""
    settings = _settings(db)
    try:
        engine = create_db_engine(settings.database_url)
        report = import_files(engine, files, progress=True)
    except ImportFailed as failure:
        err_console.print(failure.format(), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from failure
    except OperationalError as err:
        err_console.print(f"Could not open the database {settings.database_url}: {err.orig}", markup=False)
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
    db: DbOption = None,
) -> None:
    """Recompute and store health scores for every account (one row per account per day)."""
    settings = _settings(db)
    day = parse_day(as_of, option="--as-of") or _today(settings)
    model = _health_model(settings)
    engine = _engine(settings)
    scored = score_and_store(engine, model, as_of=day, history=history)
    if scored == 0:
        err_console.print(
            f"[yellow]No account has metrics on or before {day.isoformat()}[/yellow], so nothing was scored. "
            "Load data first: healthbot import FILE… (or healthbot demo)."
        )
        raise typer.Exit(1)
    with read_session(engine) as session:
        counts = dict(
            session.exec(
                select(HealthScore.band, func.count()).where(HealthScore.as_of == day).group_by(HealthScore.band)
            ).all()
        )
    bands = " · ".join(f"{counts.get(b.name, 0)} {b.name}" for b in model.bands)
    console.print(f"Scored {scored} accounts as of {day.isoformat()} with the {model.name} model: {bands}")


@app.command()
def ask(
    text: Annotated[str, typer.Argument(help='A question, e.g. "What\'s the health score for Acme Corp?"')],
    user: Annotated[str | None, typer.Option("--user", help="Ask as this CSM (name or Slack ID).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the Block Kit payload instead.")] = False,
    db: DbOption = None,
) -> None:
    """Answer a question exactly as the bot would in Slack."""
    import json

    from bot.answers import AnswerContext, answer
    from bot.intents import parse_question
    from messages.blockkit import render_message
    from messages.terminal import render_terminal

    settings = _settings(db)
    ctx = AnswerContext(engine=_engine(settings), settings=settings, user_name=user, today=_today(settings))
    view = answer(parse_question(text), ctx=ctx)
    if json_:
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
        surface = _slack_surface(settings, engine, doing="post the digests")
        assert surface is not None
        run = send_digests(engine, surface, settings, model, day=day, routing=routing, people=surface.people)
    except insights.NoScoresError as err:
        err_console.print(f"[yellow]{err.title}.[/yellow] {' '.join(err.lines)}")
        raise typer.Exit(1) from err
    console.print(run.summary(), markup=False, highlight=False)
    if run.not_delivered:
        raise typer.Exit(1)


@app.command()
def alerts(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the alerts instead of posting.")] = False,
    db: DbOption = None,
) -> None:
    """Detect new red and early-warning alerts and post each once."""
    from datetime import UTC

    from bot.alerts import AlertDesk
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
        console.print(f"{len(previews)} alert(s) would be opened; nothing was stored or posted.")
        return
    desk.surface = _slack_surface(settings, engine, doing="post alerts", required=False)
    run = desk.scan(bands=bands, now=now)
    console.print(run.summary(), markup=False, highlight=False)
    if desk.surface is None and run.opened:
        err_console.print(
            "SLACK_BOT_TOKEN is not set, so they were stored but not posted; the next run with it posts them."
        )
    if run.not_delivered:
        raise typer.Exit(1)


@app.command()
def export(
    format_: Annotated[ExportFormat, typer.Option("--format", help="csv or xlsx.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    group_by: Annotated[GroupBy | None, typer.Option("--group-by", help="Group the report.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The report as scored on this date.")] = None,
    csm: Annotated[str | None, typer.Option("--csm", help="Only this CSM's accounts (full or first name).")] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Only this segment's accounts.")] = None,
    db: DbOption = None,
) -> None:
    """Write the portfolio report table as CSV or XLSX."""
    from bot import insights
    from bot.export import ExportError, export_report

    settings = _settings(db)
    day = parse_day(as_of, option="--as-of")
    model = _health_model(settings)
    engine = _engine(settings)
    grouping = group_by.value if group_by else None
    try:
        with console.status(f"Writing the {format_.value.upper()} report…"):
            result = export_report(
                engine, model, output, format=format_.value, as_of=day, group_by=grouping, csm=csm, segment=segment
            )
    except insights.NoScoresError as err:
        err_console.print(f"[red]{err.title}.[/red] {' '.join(err.lines)}", soft_wrap=True)
        raise typer.Exit(1) from err
    except ExportError as err:
        err_console.print(f"[red]{err}[/red]", soft_wrap=True)
        raise typer.Exit(1) from err
    sheets = f" · sheets: {', '.join(result.sheets)}" if result.sheets else ""
    # soft_wrap: a path broken across lines can't be copied.
    wrote = f"Wrote {result.rows:,} accounts scored on {result.as_of} to {result.path}{sheets}"
    console.print(f"[green]✓[/green] {wrote}", soft_wrap=True, highlight=False)
    if result.summary is not None:
        summary = result.summary
        console.print(
            f"  {summary.at_risk_accounts:,} at risk ({fmt.money(summary.at_risk_arr)} ARR) · "
            f"{summary.upsell_ready_count:,} upsell-ready ({fmt.money(summary.upsell_ready_arr)} ARR)",
            highlight=False,
        )


@app.command()
def backtest(
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", min=1, max=730, help="Churn within this many days.")
    ] = 90,
    json_: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    write_model: Annotated[Path | None, typer.Option("--write-model", help="Save the refined model.")] = None,
    db: DbOption = None,
) -> None:
    """Measure how well the score predicted churn, and propose refined weights."""
    settings = _settings(db)
    model = _health_model(settings)
    engine = _engine(settings)
    try:
        result = backtest_store(engine, model, horizon_days=horizon_days)
    except NothingToBacktest as err:
        err_console.print(f"[yellow]Nothing to backtest yet.[/yellow] {err}")
        raise typer.Exit(1) from err
    if json_:
        typer.echo(json.dumps(asdict(result), indent=2))
    else:
        for line in describe_backtest(result, model):
            console.print(line, markup=False, highlight=False)
    if write_model is not None:
        notes = refinement_notes(result, day=_today(settings))
        write_model.write_text(refined_model_text(model, result.refined_weights, notes=notes), encoding="utf-8")
        err_console.print(f"Saved the refined model to {write_model}. Set HEALTHBOT_MODEL={write_model} to use it.")


def _health_model(settings: Settings) -> HealthModel:
    """The configured health model, or exit 2 with the model file's (or the playbooks file's) problem in plain
    words."""
    try:
        return load_health_model(settings)
    except ModelError as err:
        err_console.print(f"[red]Health model problem:[/red] {err}")
        err_console.print("Fix the file HEALTHBOT_MODEL points at (or unset it for the built-in default).")
        raise typer.Exit(2) from err
    except PlaybookFileError as err:
        err_console.print(f"[red]Playbooks file problem:[/red] {err}")
        raise typer.Exit(2) from err


@app.command()
def serve(port: Annotated[int, typer.Option("--port", help="HTTP port (HTTP mode).")] = 3000) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on --port."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from bot.slack import server

    settings = _settings()
    server.configure_logging(settings)
    try:
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


@app.command()
def scheduler() -> None:
    """Run the scheduled jobs (digests, alert scans) in their own process."""
    import signal

    from bot.scheduler import create_scheduler, standard_jobs
    from bot.slack import server

    settings = _settings()
    server.configure_logging(settings)
    engine = create_db_engine(settings.database_url)
    init_db(engine)
    client = _slack_client(settings, doing="post digests and alerts")
    assert client is not None
    jobs = standard_jobs(
        settings,
        engine=engine,
        client=client,
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
        err_console.print(f"[red]{what} problem:[/red] {err}")
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
    app()
