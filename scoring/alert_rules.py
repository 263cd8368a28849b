"""The alert conditions, as pure pandas rules over two scoring days (and the day a week before): turned to the
lowest band, crossed a band downward, dropped more than DROP_POINTS in DROP_DAYS days, raised new signals.

bot.alerts reads the scores from the store, asks these rules which accounts changed, and turns those few into
alerts; nothing here knows the store or any surface.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

DROP_POINTS = 15.0  # "drops more than 15 points in 7 days": exactly 15 is not an alert
DROP_DAYS = 7
ALERTING_SEVERITIES = ("Critical", "High")  # a signal this severe opens an alert of its own
ESCALATING_SEVERITIES = ("Critical", "High")

# Response times and severities for the score-based conditions, in the seeds' words (a signal brings its own).
CONDITION_RESPONSE = {"turned_red": "24 hours", "score_drop": "24 hours", "band_drop": "48 hours"}
CONDITION_SEVERITY = {"turned_red": "High", "score_drop": "High", "band_drop": "Medium"}


def score_conditions(
    now: pd.DataFrame, before: pd.DataFrame, week: pd.DataFrame, *, bands: Sequence[str]
) -> pd.DataFrame:
    """Each account scored today with its scores before and the alert conditions it meets.

    Args:
        now: today's `score`, `band` and `signals` (JSON text), indexed by account.
        before: the same for the previous scoring day (empty on the first).
        week: `score` on the scoring day a week before (or the nearest before it).
        bands: the model's band names, best first; the last is "red".

    Returns:
        `now` with `score_before`, `band_before`, `signals_before`, `score_week`, the boolean columns
        `turned_red`, `band_drop`, `score_drop`, `new_signals` and `seen_before`, and each band's rank.
    """
    rank = {name: i for i, name in enumerate(bands)}
    lowest = len(bands) - 1
    frame = now.merge(before, how="left", left_index=True, right_index=True, suffixes=("", "_before"))
    frame = frame.merge(week[["score"]], how="left", left_index=True, right_index=True, suffixes=("", "_week"))
    frame["band_rank"], before_rank = frame["band"].map(rank), frame["band_before"].map(rank)
    frame["seen_before"] = before_rank.notna()
    frame["turned_red"] = frame["seen_before"] & (frame["band_rank"] == lowest) & (before_rank < lowest)
    frame["band_drop"] = frame["seen_before"] & (frame["band_rank"] > before_rank) & ~frame["turned_red"]
    frame["score_drop"] = (frame["score_week"] - frame["score"]) > DROP_POINTS
    frame["new_signals"] = (
        frame["seen_before"] & (frame["signals"] != frame["signals_before"]) & (frame["signals"] != "[]")
    )
    return frame


def changed(frame: pd.DataFrame) -> pd.Series:
    """The accounts meeting any condition of `score_conditions` (the ones worth a closer look)."""
    return frame["turned_red"] | frame["band_drop"] | frame["score_drop"] | frame["new_signals"]
