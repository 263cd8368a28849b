"""`/health export [csv|xlsx] [csm NAME | me | @user] [segment NAME] [by csm|segment|industry|plan_tier|region]`:
the portfolio report as a file in the conversation (the asker's DM when the bot is not a member there)."""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.export import GROUP_BY_COLUMNS, ExportError, ExportFormat, ExportResult, export_report
from bot.insights import InsightError
from bot.intents import EXPORT_FORMATS
from bot.scoring_runs import load_health_model
from handlers.slack.deps import AppDeps
from handlers.slack.failures import slack_error
from handlers.slack.people import SLACK_USER_ID, book_owner
from handlers.slack.replies import apology_message, notice_message, respond_safely
from handlers.slack.uploads import sent_to_dm, upload_file
from messages import format as fmt
from messages import views
from scoring import ModelError

logger = logging.getLogger(__name__)

_FORMAT_WORDS: dict[str, ExportFormat] = {"csv": "csv", "xlsx": "xlsx", "excel": "xlsx", "xls": "xlsx"}
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_FILTER = re.compile(r"\b(csm|for|segment|by)\s+(.+?)(?=\s+\b(?:csm|for|segment|by)\b\s|$)", re.IGNORECASE)
USAGE = (
    "`/health export xlsx` (or `csv`), then any of `csm Sarah Chen` (or `me`, or an @mention), "
    "`segment Enterprise`, `by csm|segment|industry|plan_tier|region`."
)


@dataclass(frozen=True)
class ExportRequest:
    """What `/health export …` asked for."""

    format: ExportFormat
    csm: str | None = None  # a name, "me", or a Slack user ID
    segment: str | None = None
    group_by: str | None = None


def parse_export(text: str) -> ExportRequest | views.Notice:
    """Read the words after `/health export`; a Notice naming what was not understood, with the usage."""
    words = text.split()
    if words and words[0].lower() == "export":
        words = words[1:]
    wanted = words[0].lower().lstrip(".") if words else "csv"
    if wanted in _FORMAT_WORDS:
        words = words[1:]
    elif wanted in ("csm", "for", "segment", "by", "me") or _MENTION.fullmatch(words[0]):
        wanted = "csv"
    else:
        return _refusal(f"I can't export “{words[0]}”", f"Exports come as {' or '.join(EXPORT_FORMATS)}.")
    rest = " ".join(words)
    options: dict[str, str] = {}
    for match in _FILTER.finditer(rest):
        key = "csm" if match.group(1).lower() == "for" else match.group(1).lower()
        options[key] = match.group(2).strip()
    leftover = _FILTER.sub(" ", rest).strip()
    if leftover and "csm" not in options and (leftover.lower() == "me" or _MENTION.fullmatch(leftover)):
        options["csm"], leftover = leftover, ""
    if leftover:
        return _refusal(f"I didn't understand “{leftover}”", "")
    group_by = options.get("by", "").lower().replace(" ", "_") or None
    if group_by is not None and group_by not in GROUP_BY_COLUMNS:
        return _refusal(f"I can't group by “{options['by']}”", f"Choose one of {', '.join(GROUP_BY_COLUMNS)}.")
    csm = options.get("csm")
    mentioned = _MENTION.fullmatch(csm) if csm else None
    csm = mentioned.group(1) if mentioned else csm
    return ExportRequest(_FORMAT_WORDS[wanted], csm=csm, segment=options.get("segment"), group_by=group_by)


def _refusal(title: str, line: str) -> views.Notice:
    return views.Notice(title, [part for part in (line, f"Try {USAGE}") if part], kind="not_found")


def export_callback(
    text: str, *, channel: str | None, user_id: str | None, respond: Respond, client: WebClient, deps: AppDeps
) -> None:
    """Build the report file and upload it into `channel`; anything to say goes to the asker privately."""
    request = parse_export(text)
    if isinstance(request, views.Notice):
        respond_safely(respond, notice_message(request))
        return
    try:
        csm = _csm_name(request.csm, asker=user_id, deps=deps)
        model = load_health_model(deps.settings)
        with tempfile.TemporaryDirectory(prefix="healthbot-export-") as folder:
            path = Path(folder) / f"report.{request.format}"
            result = export_report(
                deps.engine,
                model,
                path,
                format=request.format,
                group_by=request.group_by,
                csm=csm,
                segment=request.segment,
            )
            content = path.read_bytes()
    except InsightError as err:
        respond_safely(respond, notice_message(err.notice()))
        return
    except (ExportError, ModelError) as err:
        respond_safely(respond, notice_message(views.Notice("I can't export that", [str(err)], kind="not_found")))
        return
    except Exception:
        logger.exception("could not build a %s export", request.format)
        respond_safely(respond, apology_message())
        return

    scope = "-".join(part for part in (csm, request.segment) if part)
    day = result.as_of.isoformat() if result.as_of else "latest"
    filename = "-".join(["customer-health", *([_slug(scope)] if scope else []), day]) + f".{request.format}"
    try:
        landed = upload_file(
            client,
            content=content,
            filename=filename,
            title=f"Customer health report{f' — {scope}' if scope else ''} ({request.format.upper()})",
            channel=channel,
            comment=_comment(result, user_id),
            asker=user_id,
        )
    except (SlackApiError, OSError, ValueError) as err:
        logger.error("could not upload the %s export: %s", request.format, slack_error(err))
        respond_safely(respond, apology_message())
        return
    if landed.moved_to_dm:
        respond_safely(respond, notice_message(sent_to_dm("Your report", refused=True)))


def _comment(result: ExportResult, user_id: str | None) -> str:
    by = f"<@{user_id}>'s export: " if user_id else ""
    line = f"{by}{fmt.count(result.rows, 'account')} scored on {fmt.day(result.as_of)}"
    if result.summary is not None:
        summary = result.summary
        line += (
            f" · {summary.at_risk_accounts} at risk ({fmt.money(summary.at_risk_arr)} ARR)"
            f" · {summary.upsell_ready_count} upsell-ready"
        )
    return line


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _csm_name(csm: str | None, *, asker: str | None, deps: AppDeps) -> str | None:
    """The CSM name the report's "CSM Owner" column uses, for a name, "me" or a Slack user ID."""
    if csm is None:
        return None
    person = asker if csm.lower() in ("me", "my", "mine") else csm
    if person is None or not SLACK_USER_ID.fullmatch(person):
        return person
    owner = book_owner(person, engine=deps.engine, people=deps.people)
    if owner is None:
        raise ExportError(f"No accounts belong to <@{person}>. Name the CSM instead, e.g. `csm Sarah Chen`.")
    return owner
