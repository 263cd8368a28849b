"""The `healthbot` command line. Each command is thin: it reads settings, opens the store and calls the
module that does the work."""

from __future__ import annotations

import logging
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from bot.importer import ImportFailed, import_files
from bot.settings import Settings, SettingsError, load_settings
from bot.store import create_db_engine

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


def not_built_yet(what: str, issue: int) -> None:
    """Say plainly that a capability has not landed, and exit non-zero rather than pretend."""
    err_console.print(f"[yellow]{what} is not built yet[/yellow] (planned in issue #{issue}). Nothing was done.")
    raise typer.Exit(3)


@app.command()
def demo(db: DbOption = None) -> None:
    """Load the built-in sample portfolio and print the Acme Corp card, Sarah Chen's portfolio and today's digest."""
    _settings(db)
    not_built_yet("The demo portfolio", 2)


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
    db: DbOption = None,
) -> None:
    """Recompute and store health scores for every account (one row per account per day)."""
    _settings(db)
    not_built_yet("Scoring", 3)


@app.command()
def ask(
    text: Annotated[str, typer.Argument(help='A question, e.g. "What\'s the health score for Acme Corp?"')],
    user: Annotated[str | None, typer.Option("--user", help="Ask as this CSM (name or Slack ID).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the Block Kit payload instead.")] = False,
    db: DbOption = None,
) -> None:
    """Answer a question exactly as the bot would in Slack."""
    _settings(db)
    not_built_yet("Answering questions", 4)


@app.command()
def digest(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the digests instead of posting.")] = False,
    date_: Annotated[str | None, typer.Option("--date", help="Digest for this day (YYYY-MM-DD).")] = None,
    db: DbOption = None,
) -> None:
    """Build today's early-warning digests and post them (each once per day and destination)."""
    _settings(db)
    not_built_yet("The daily digest", 5)


@app.command()
def alerts(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the alerts instead of posting.")] = False,
    db: DbOption = None,
) -> None:
    """Detect new red and early-warning alerts and post each once."""
    _settings(db)
    not_built_yet("Red-account alerts", 5)


@app.command()
def export(
    format_: Annotated[ExportFormat, typer.Option("--format", help="csv or xlsx.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    group_by: Annotated[GroupBy | None, typer.Option("--group-by", help="Group the report.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The report as scored on this date.")] = None,
    db: DbOption = None,
) -> None:
    """Write the portfolio report table as CSV or XLSX."""
    _settings(db)
    not_built_yet("Exporting the report", 6)


@app.command()
def backtest(
    horizon_days: Annotated[int, typer.Option("--horizon-days", help="Churn within this many days.")] = 90,
    json_: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    write_model: Annotated[Path | None, typer.Option("--write-model", help="Save the refined model.")] = None,
    db: DbOption = None,
) -> None:
    """Measure how well the score predicted churn, and propose refined weights."""
    _settings(db)
    not_built_yet("Backtesting", 3)


@app.command()
def serve(port: Annotated[int, typer.Option("--port", help="HTTP port (HTTP mode).")] = 3000) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on --port."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from bot import server

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
    _settings()
    not_built_yet("The scheduler", 5)


@app.command()
def manifest(
    url: Annotated[
        str | None,
        typer.Option("--url", help="Public HTTPS URL for HTTP mode (else the manifest uses Socket Mode)."),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="The app's name in your workspace.")] = "Healthbot",
) -> None:
    """Print the Slack app manifest (YAML) that creates this app."""
    from bot.manifest import manifest_yaml

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
