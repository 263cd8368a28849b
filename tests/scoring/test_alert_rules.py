"""The alert conditions as pure rules over score frames: no store, no Slack."""

from __future__ import annotations

import pandas as pd

from scoring.alert_rules import changed, score_conditions

BANDS = ("Green", "Yellow", "Red")


def frame(rows: dict[str, tuple[float, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"account_id": a, "score": s, "band": b, "signals": j} for a, (s, b, j) in rows.items()]
    ).set_index("account_id")


def test_each_condition_from_two_days_and_a_week() -> None:
    now = frame({"RED": (40, "Red", "[]"), "DOWN": (60, "Yellow", "[]"), "EXACT": (60, "Yellow", "[]"),
                 "SIGNAL": (80, "Green", '[{"key": "x"}]'), "NEW": (30, "Red", "[]")})  # fmt: skip
    before = frame({"RED": (55, "Yellow", "[]"), "DOWN": (85, "Green", "[]"), "EXACT": (61, "Yellow", "[]"),
                    "SIGNAL": (80, "Green", "[]")})  # fmt: skip
    week = frame({"RED": (56, "Yellow", "[]"), "DOWN": (86, "Green", "[]"), "EXACT": (75, "Yellow", "[]"),
                  "SIGNAL": (80, "Green", "[]")})  # fmt: skip
    rules = score_conditions(now, before, week, bands=BANDS)
    met = {
        account: [c for c in ("turned_red", "band_drop", "score_drop", "new_signals") if rules.loc[account, c]]
        for account in rules.index
    }
    assert met == {
        "RED": ["turned_red", "score_drop"],  # 56 → 40: 16 points
        "DOWN": ["band_drop", "score_drop"],
        "EXACT": [],  # 75 → 60 is exactly 15 points: "more than 15" is not met
        "SIGNAL": ["new_signals"],
        "NEW": [],  # first scored today: its baseline
    }
    assert sorted(rules.index[changed(rules)]) == ["DOWN", "RED", "SIGNAL"]
