"""Formatting shared by every renderer (Block Kit, terminal, later Teams): numbers and dates in a CSM's words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

MINUS = "\u2212"  # a real minus sign reads better than a hyphen next to a number

BAND_EMOJI = {"green": "🟢", "yellow": "🟡", "orange": "🟠", "red": "🔴"}
SEVERITY_EMOJI = {"critical": "🚨", "high": "🔴", "medium": "🟠", "low": "🟡"}
CONCERN_EMOJI = {"high": "🚨", "medium": "⚠️", "low": "🟡", "opportunity": "📈", "positive": "✅"}
DIRECTION_ARROW = {"improving": "↗", "declining": "↘", "stable": "→", "new": "•"}


def band_emoji(band: str | None) -> str:
    """The coloured circle for a band name (the model's own names fall back to a neutral circle)."""
    return BAND_EMOJI.get((band or "").lower(), "⚪")


def severity_emoji(severity: str | None) -> str:
    """The marker for a signal's severity."""
    return SEVERITY_EMOJI.get((severity or "").lower(), "•")


def concern_emoji(concern: str | None) -> str:
    """The marker for a trend finding's level of concern."""
    return CONCERN_EMOJI.get((concern or "").lower(), "•")


def arrow(direction: str | None) -> str:
    """↗ ↘ → for improving, declining, stable."""
    return DIRECTION_ARROW.get((direction or "").lower(), "•")


def money(value: float | None) -> str:
    """$45K, $1.2M, $850: compact dollars for lists and summaries."""
    if value is None:
        return "—"
    amount = abs(value)
    sign = MINUS if value < 0 else ""
    if amount >= 1_000_000:
        text = f"{amount / 1_000_000:.1f}".removesuffix(".0") + "M"
    elif amount >= 1_000:
        text = f"{amount / 1_000:.1f}".removesuffix(".0") + "K"
    else:
        text = f"{amount:.0f}"
    return f"{sign}${text}"


def money_full(value: float | None) -> str:
    """$45,000: exact dollars for an account's own ARR."""
    if value is None:
        return "—"
    return f"{MINUS if value < 0 else ''}${abs(value):,.0f}"


def score(value: float | None) -> str:
    """A score as people say it: 68, or "no data"."""
    return "no data" if value is None else f"{value:.0f}"


def shown(value: float) -> int:
    """A score as `score` shows it: the whole number it rounds to."""
    return round(value)


def change(previous: float | None, current: float | None) -> float | None:
    """The change between two scores as they are shown: 70.6 → 68.4 reads "71 → 68", so the change is −3."""
    if previous is None or current is None:
        return None
    return float(shown(current) - shown(previous))


def move(previous: float | None, current: float | None) -> str:
    """ "71 → 68 (−3)": both scores as shown and the difference of the two — never a separately rounded delta;
    just "68" without an earlier score."""
    if current is None:
        return score(None)
    if previous is None:
        return score(current)
    return f"{score(previous)} → {score(current)} ({signed(change(previous, current))})"


def signed(value: float | None, *, unit: str = "") -> str:
    """+3, −10, ±0 (with a real minus sign)."""
    if value is None:
        return "—"
    rounded = round(value)
    if rounded == 0:
        return f"±0{unit}"
    return f"{'+' if rounded > 0 else MINUS}{abs(rounded)}{unit}"


def pct(share: float | None, *, digits: int = 0) -> str:
    """0.48 → 48%."""
    if share is None:
        return "—"
    return f"{share * 100:.{digits}f}%"


def day(value: date | None) -> str:
    """31 Mar 2027."""
    return "—" if value is None else value.strftime("%-d %b %Y")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """1 account, 6 accounts."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def days_phrase(days: int | None) -> str:
    """'in 45 days', 'today', '3 days ago'."""
    if days is None:
        return "—"
    if days == 0:
        return "today"
    if days > 0:
        return f"in {count(days, 'day')}"
    return f"{count(-days, 'day')} ago"


def one_stop(text: str) -> str:
    """Sentences joined from parts that bring their own full stop ("… 53 → 36." + ".") end with one, not "36..";
    a "?" or "!" keeps its own."""
    return re.sub(r"(?<=[.!?])\.+", "", text)


def clip(text: str, limit: int) -> str:
    """Cut text to `limit` characters, ending with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def respond_by(response_time: str | None) -> str:
    """'respond within 24 hours', 'respond immediately' — the seeds' response-time column as an instruction."""
    if not response_time:
        return ""
    if response_time.strip().lower() in ("immediate", "immediately", "now"):
        return "respond immediately"
    return f"respond within {response_time}"


BAND_TONES = ("green", "yellow", "orange", "red")  # best to worst
_BAND_TONE_SYNONYMS = {"healthy": "green", "at risk": "yellow", "at-risk": "yellow", "critical": "red"}


def band_tone(band: str | None, order: Sequence[str] = ()) -> str | None:
    """The colour family of a band (green, yellow, orange, red): by its name, else by its rank in `order`.

    `order` is the model's band names, best first, so a model's own names ("Thriving" … "Sinking") still colour
    from green to red. None when neither tells.
    """
    name = (band or "").strip().casefold()
    name = _BAND_TONE_SYNONYMS.get(name, name)
    if name in BAND_TONES:
        return name
    if band is not None and band in order and len(order) > 1:
        return BAND_TONES[round(list(order).index(band) * (len(BAND_TONES) - 1) / (len(order) - 1))]
    return None
