"""The portfolio report table (CONTRACT.md "Report table")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy.engine import Engine

from bot.insights.loaders import last_touch, load_book, scored_day
from bot.insights.pieces import as_date
from scoring import Finding, HealthModel
from scoring import portfolio as book_math
from scoring.score import dimension_shares

# --- the report table --------------------------------------------------------------------------------------------
REPORT_COLUMNS = (
    "Account ID",
    "Account Name",
    "CSM Owner",
    "Health Score",
    "Status",
    "Last Touch",
    "Risk Notes",
    "Action Needed",
    "Trend vs Last Month",
    "Segment",
    "ARR",
    "Renewal Date",
    "Confidence",
)
_EXTRA_COLUMNS = {"region": "Region", "industry": "Industry", "plan_tier": "Plan Tier", "csm_email": "CSM Email"}
UPSELL_COLUMN = "Upsell Opportunity"  # the report's last column: "Seat expansion", … or empty (bot.export counts it)


def report_table(
    engine: Engine,
    model: HealthModel,
    *,
    as_of: date | None = None,
    group_by: str | None = None,
    account_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The portfolio report (CONTRACT.md "Report table"): one row per current customer, the contract's columns in
    order, then Region, Industry, Plan Tier, CSM Email, Upsell Opportunity. `group_by` (csm, segment, region,
    industry, plan_tier) sorts by that group, then weakest score first; otherwise weakest score first.

    Raises:
        NoScoresError: nothing scored for `as_of` ("run `healthbot score --as-of …` first").
    """
    day = scored_day(engine, as_of, exact=True)
    book = load_book(engine, model, day, account_ids=account_ids)  # `account_ids`: only those rows (a question's)
    touched = last_touch(engine, day, account_ids=account_ids)
    actions, notes = _first_actions(book, model)
    ready = book_math.expansion_ready(book, model, reasons_for=0).set_index("account_id")["opportunity"]
    upsell = book["account_id"].map(ready.astype("string").fillna("Upsell conversation")).astype("string").fillna("")
    table = pd.DataFrame(
        {
            "Account ID": book["account_id"],
            "Account Name": book["name"],
            "CSM Owner": book["csm_owner"],
            "Health Score": book["score"].round(0).astype(int),
            "Status": book["band"],
            "Last Touch": book["account_id"].map(touched),
            "Risk Notes": notes,
            "Action Needed": actions,
            # The change between the scores as shown, as every view gives it (whole points; empty without history).
            "Trend vs Last Month": book["score"].round(0) - pd.to_numeric(book["last_month_score"]).round(0),
            "Segment": book["segment"],
            "ARR": book["arr"],
            "Renewal Date": book["renewal_date"].map(as_date),
            "Confidence": book["confidence"].round(2),
            **{label: book[column] for column, label in _EXTRA_COLUMNS.items()},
            UPSELL_COLUMN: upsell,  # what the export's summary counts as upsell-ready
        }
    )
    sort = ["Health Score", "Account Name"]
    if group_by is not None:
        column = book_math.GROUPINGS.get(group_by, group_by)
        label = {"csm_owner": "CSM Owner", "segment": "Segment", **_EXTRA_COLUMNS}[column]
        sort = [label, *sort]
    return table.sort_values(sort, na_position="last").reset_index(drop=True)


def _first_actions(book: pd.DataFrame, model: HealthModel) -> tuple[list[str], list[str]]:
    """Per account: the top recommended action, and its risk signals' titles (most severe first)."""
    from scoring import recommend_actions

    # Shares as scoring weighed them: the segment and lifecycle overrides applied, renormalised over the
    # dimensions with data — so the report's action is the card's first action.
    dims = book_math.dimension_scores(book)
    shares = dimension_shares(model, dims, segments=book["segment"], lifecycle_stages=book["lifecycle_stage"])
    actions, notes = [], []
    for band, scores_row, shares_row, records in zip(
        book["band"], dims.to_dict("records"), shares.to_dict("records"), book["signals"], strict=True
    ):
        found = [Finding.from_record(r) for r in records or []]
        scores = {k: float(v) for k, v in scores_row.items() if pd.notna(v)}
        shares_of = {k: float(v) for k, v in shares_row.items() if k in scores}
        recommended = recommend_actions(
            model, band=str(band), dimension_scores=scores, dimension_shares=shares_of, findings=found
        )
        actions.append(recommended[0].title if recommended else "")
        notes.append("; ".join(f.title for f in found if f.kind == "risk"))
    return actions, notes
