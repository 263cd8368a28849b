"""What a person asked for, whether by `/health …`, a mention, a DM or `healthbot ask`.

`parse_command` reads the `/health` grammar of CONTRACT.md; `parse_question` places plain questions ("how is Acme
doing?", "show Sarah's book") with a small set of rules — no network services, nothing to train. Both return an
`Intent`; `intent_to_value` / `intent_from_value` carry one through a button's value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Literal, get_args

from messages import views

IntentKind = Literal[
    "account",  # "/health Acme Corp", "What's the health score for Acme Corp?", "how is Acme doing?"
    "drop_cause",  # "What caused Acme Corp health to drop?"
    "recovery_plan",  # "Generate recovery plan for Acme Corp"
    "portfolio",  # "/health portfolio Sarah Chen", "show Sarah's book"; subject None = the asker's own book
    "segment",  # "/health segment Enterprise"
    "risks",  # "/health risks", "who's at risk this quarter?"
    "expansion",  # "/health expansion", "which accounts are expansion ready?"
    "trends",  # "/health trends", "which health trends should worry us most this quarter?"
    "export",  # "/health export xlsx"
    "ask",  # anything in plain words: subject = the question, read by bot.questions against the store
    "help",
    "unknown",
]
INTENT_KINDS: frozenset[str] = frozenset(get_args(IntentKind))
EXPORT_FORMATS = ("csv", "xlsx")
MAX_VALUE_CHARS = 2000  # Slack's limit on a button's value
_MAX_SUBJECT_CHARS = 500


@dataclass(frozen=True)
class Intent:
    """A parsed request: its kind and its subject (an account, a CSM, a segment, an export format)."""

    kind: IntentKind
    subject: str | None = None
    page: int = 1  # for "Show more" on long lists
    text: str = ""  # what the person typed, for "here's what I can do"


# --- Slack's markup --------------------------------------------------------------------------------------------------

_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LEADING_MENTIONS = re.compile(r"^\s*(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:;]*)+")
_LINK = re.compile(r"<(?:#[A-Z0-9]+|!subteam\^[A-Z0-9]+|[a-z]+://[^|>]*|mailto:[^|>]*)\|([^>]*)>")
_BARE_LINK = re.compile(r"<((?:[a-z]+://|mailto:)[^|>]*)>")


def _plain(text: str) -> str:
    """Slack's escaped text as the person typed it: links and channels by their label, `&amp;` as `&`."""
    text = _LINK.sub(r"\1", text)
    text = _BARE_LINK.sub(r"\1", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def _user_id(text: str) -> str | None:
    """The Slack user ID when `text` is exactly one user mention (`<@U123>` or `<@U123|sarah>`)."""
    match = _USER_MENTION.fullmatch(text.strip())
    return match.group(1) if match else None


# --- Subjects ---------------------------------------------------------------------------------------------------------

_TRAILING_FILLER = re.compile(
    r"(?:(?:^|[\s,]+)(?:doing|going|looking|performing|tracking|these days|lately|right now|now|today|currently|"
    r"at the moment|this (?:week|month|quarter|year)|please|pls|thanks|thank you|overall|again)"
    r"|\s+(?:account|customer)|'s|s'|[\s?!.,:;\"*_`]+)$",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(r"^(?:(?:the|our|my|account|customer|about|for|on|of)\s+|[\"*_`]+)", re.IGNORECASE)


def _clean_subject(raw: str) -> str | None:
    subject = raw.strip()
    while True:
        trimmed = _LEADING_FILLER.sub("", _TRAILING_FILLER.sub("", subject)).strip()
        if trimmed == subject:
            break
        subject = trimmed
    return subject[:_MAX_SUBJECT_CHARS] or None


def _book_owner(raw: str) -> str | None:
    """Whose book: None for the asker's own, a Slack user ID for a mention, else a CSM's name."""
    raw = raw.strip()
    if raw.lower() in ("", "me", "mine", "my", "my book", "my portfolio", "myself"):
        return None
    mentioned = _user_id(raw)
    if mentioned:
        return mentioned
    return _clean_subject(raw.lstrip("@"))


# --- /health ----------------------------------------------------------------------------------------------------------

_HELP_WORDS = frozenset({"help", "?", "-h", "--help", "commands", "usage"})
_RISK_WORDS = frozenset({"risks", "risk", "at-risk", "red"})
_EXPANSION_WORDS = frozenset({"expansion", "expand", "upsell", "growth"})
_TREND_WORDS = frozenset({"trends", "trend"})
_PORTFOLIO_WORDS = frozenset({"portfolio", "book"})
_EXPORT_FILTER_WORDS = frozenset({"csm", "for", "segment", "by", "me"})
_EXPORT_WORDS = _EXPORT_FILTER_WORDS | {"csv", "xlsx", "excel", "xls"}
_COMMAND_HEADS = _PORTFOLIO_WORDS | _RISK_WORDS | _EXPANSION_WORDS | _TREND_WORDS | {"segment", "export"}
_ONLY_QUALIFIERS = re.compile(r"^(?:this|next|last)\s+(?:week|month|quarter|year)$|^$", re.IGNORECASE)


def parse_command(text: str) -> Intent:
    """Read the text after `/health`: `<account>`, `portfolio [@user | CSM name | me]`, `risks`, `expansion`,
    `trends`, `segment <name>`, `export [csv|xlsx] [filters]` or `help`. Anything phrased as a question is read as one.

    Args:
        text: the command's text as Slack sends it (user mentions escaped as `<@U123|name>`).

    Returns:
        The intent; an empty command is `help`.
    """
    original = text
    cleaned = _plain(text)
    words = cleaned.split()
    if not words:
        return Intent("help", text=original)
    head, rest = words[0].lower(), " ".join(words[1:])

    if head in _HELP_WORDS and not rest:
        return Intent("help", text=original)
    if head in _PORTFOLIO_WORDS:
        return Intent("portfolio", subject=_book_owner(rest), text=original)
    if head in _RISK_WORDS and _ONLY_QUALIFIERS.match(rest):
        return Intent("risks", text=original)
    if head in _EXPANSION_WORDS and _ONLY_QUALIFIERS.match(rest):
        return Intent("expansion", text=original)
    if head in _TREND_WORDS and _ONLY_QUALIFIERS.match(rest):
        return Intent("trends", text=original)
    if head == "segment":
        subject = _clean_subject(rest)
        return Intent("segment", subject=subject, text=original) if subject else Intent("unknown", text=original)
    wanted = (words[1] if len(words) > 1 else "").lower().lstrip(".")
    # "export xlsx by csm" is an export with filters (kept in `text`); "Export Logistics Ltd" is an account.
    if head == "export" and (len(words) <= 2 or wanted in _EXPORT_WORDS or words[1].startswith("<@")):
        if wanted in _EXPORT_FILTER_WORDS or wanted.startswith("<@") or not wanted:
            wanted = "csv"
        return Intent("export", subject="xlsx" if wanted in ("excel", "xls") else wanted, text=original)
    if head == "account" and rest:
        return Intent("account", subject=_clean_subject(rest), text=original)
    mentioned = _user_id(cleaned)
    if mentioned:
        return Intent("portfolio", subject=mentioned, text=original)
    return ask(cleaned, original)


def ask(question: str, original: str | None = None) -> Intent:
    """A question in plain words, for bot.questions to read against the store's names."""
    return Intent("ask", subject=question[:_MAX_SUBJECT_CHARS], text=original if original is not None else question)


# --- Questions --------------------------------------------------------------------------------------------------------


def parse_question(text: str) -> Intent:
    """Place a plain question from a mention, a DM or `healthbot ask`.

    Args:
        text: the message text; a leading mention of the bot is ignored.

    Returns:
        The command grammar's intent when the text is a command ("portfolio Sarah Chen"), else an `ask` intent
        carrying the whole text for bot.questions to read against the store.
    """
    original = text
    cleaned = _plain(_LEADING_MENTIONS.sub("", text))
    # People type the command grammar in DMs too: "portfolio Sarah Chen", "/health risks".
    head, _, rest = cleaned.partition(" ")
    if head.lower() == "/health":
        return replace(parse_command(rest), text=original)
    if head.lower() in _COMMAND_HEADS - {"book", "red"} and "?" not in cleaned and len(cleaned.split()) <= 3:
        intent = parse_command(cleaned)
        if intent.kind not in ("account", "unknown", "ask"):
            return replace(intent, text=original)
    return ask(text, original)


# --- Help -------------------------------------------------------------------------------------------------------------

HELP_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("/health Acme Corp", "an account's health card: score, trend, dimensions, risks and next actions"),
    ("/health portfolio", "your own book: bands, ARR per band, renewals in 90 days, who is declining"),
    ("/health portfolio @sarah", "a CSM's book (also `/health portfolio Sarah Chen`)"),
    ("/health risks", "accounts at risk, riskiest first"),
    ("/health expansion", "accounts ready for an expansion conversation"),
    ("/health trends", "the health trends that should worry us most, ranked by ARR"),
    ("/health segment Enterprise", "one segment's portfolio"),
    ("/health export xlsx", "the portfolio report as a file (or `csv`); add `csm Sarah`, `segment SMB` or `by csm`"),
)
HELP_QUESTIONS: tuple[str, ...] = (
    "What's the health score for Acme Corp?",
    "What caused Acme Corp health to drop?",
    "How many red accounts does Sarah have?",
    "Renewals in the next 30 days in EMEA",
    "Accounts with no touch in 30 days",
    "What changed since last week?",
    "Acme vs TechFlow",
    "QBR prep for TechFlow",
    "How is the health score calculated?",
)


def help_notice(unplaced: str | None = None) -> views.Notice:
    """Everything the bot answers, with examples; `unplaced` is a question it could not place, said back first."""
    lines: list[str] = []
    if unplaced and unplaced.strip():
        said = _plain(_LEADING_MENTIONS.sub("", unplaced))
        if len(said) > 150:
            said = said[:149] + "…"
        lines += [f"I couldn't place “{said}”. Here's what I can answer:", ""]
    lines += [f"• `{command}` — {what}" for command, what in HELP_EXAMPLES]
    lines += ["", "Or mention me in a channel, or DM me, in plain words:"]
    lines += [f"• “{question}”" for question in HELP_QUESTIONS]
    lines += ["", "Answers to `/health` are visible only to you until you press *Share in channel*."]
    return views.Notice(title="Here's what I can do", lines=lines, kind="help")


# --- Button values ----------------------------------------------------------------------------------------------------


def intent_to_value(intent: Intent) -> str:
    """The intent as compact JSON for a button's value (always under Slack's 2,000 characters)."""
    data: dict[str, object] = {"k": intent.kind}
    if intent.subject is not None:
        data["s"] = intent.subject[:_MAX_SUBJECT_CHARS]
    if intent.page != 1:
        data["p"] = intent.page
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def intent_from_value(value: str) -> Intent:
    """Read back a value written by `intent_to_value`.

    Raises:
        ValueError: the value is not one we wrote (a stale or hand-made button).
    """
    try:
        data = json.loads(value)
    except json.JSONDecodeError as err:
        raise ValueError("not an intent value") from err
    if not isinstance(data, dict) or data.get("k") not in INTENT_KINDS:
        raise ValueError("not an intent value")
    subject = data.get("s")
    page = data.get("p", 1)
    if (subject is not None and not isinstance(subject, str)) or not isinstance(page, int) or page < 1:
        raise ValueError("not an intent value")
    return Intent(data["k"], subject=subject, page=page)
