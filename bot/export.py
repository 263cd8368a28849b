"""The portfolio report people take away: CSV for a CRM import or BI tool, XLSX for leadership and RevOps.

Everything here works on the report table (`bot.insights.report_table`): the summary block is computed from it with
pandas, never re-queried, so the Summary sheet always agrees with the rows beside it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from rapidfuzz import process
from sqlalchemy.engine import Engine

from bot import insights
from bot.insights import REPORT_COLUMNS, UPSELL_COLUMN  # CONTRACT.md's columns, in order
from messages import format as fmt
from messages import views
from scoring import HealthModel

ExportFormat = Literal["csv", "xlsx"]

# `--group-by` value → the report column it groups on.
GROUP_BY_COLUMNS: dict[str, str] = {
    "csm": "CSM Owner",
    "segment": "Segment",
    "industry": "Industry",
    "plan_tier": "Plan Tier",
    "region": "Region",
}
_NO_GROUP_VALUE = "(none)"  # the group (and sheet) of accounts with no value in the grouping column

TOP_RISK_DRIVERS = 5
SUMMARY_UPSELL_LIMIT = 50  # the Summary sheet lists the biggest; the count covers them all

# Excel's own "Good / Neutral / Bad" cell styles, so the colours look familiar to spreadsheet people.
BAND_COLOURS: dict[str, tuple[str, str]] = {  # band tone → (fill, font)
    "green": ("C6EFCE", "006100"),
    "yellow": ("FFEB9C", "9C5700"),
    "orange": ("FFD8B0", "9C4A00"),
    "red": ("FFC7CE", "9C0006"),
}
_OTHER_BAND_COLOUR = ("E7E6E6", "3A3838")

HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)

NUMBER_FORMATS: dict[str, str] = {
    "Health Score": "0",
    "Trend vs Last Month": "+0;-0;0",
    "ARR": "$#,##0",
    "Confidence": "0%",
}
DATE_FORMAT = "yyyy-mm-dd"
# Rounding for the CSV, where there is no number format to hide float noise such as 67.99999999.
CSV_DECIMALS: dict[str, int] = {"Health Score": 1, "Trend vs Last Month": 1, "ARR": 2, "Confidence": 2}

_SHEET_NAME_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_RESERVED_SHEET_NAMES = {"history"}  # Excel refuses a sheet called History
_MAX_WIDTH = 60


class ExportError(ValueError):
    """The person asked for something the report cannot give (an unknown CSM, a folder that does not exist …)."""


@dataclass(frozen=True)
class ReportSummary:
    """The summary block of the report: the figures leadership reads before the rows."""

    accounts: int
    total_arr: float
    average_score: float | None
    bands: list[views.BandSummary]  # best band first
    at_risk_accounts: int  # every account outside the best band
    at_risk_arr: float
    risk_drivers: list[views.RiskDriver]  # the five most common in Risk Notes, most accounts first
    upsell_ready: list[views.AccountRef]  # biggest ARR first, at most SUMMARY_UPSELL_LIMIT
    upsell_ready_count: int
    upsell_ready_arr: float
    groups: list[views.GroupRow] = field(default_factory=list)  # per group when the report is grouped
    group_label: str | None = None  # "CSM Owner", "Segment", …


@dataclass(frozen=True)
class ExportResult:
    """What was written, for the person who asked."""

    path: Path
    rows: int
    format: ExportFormat
    sheets: list[str] = field(default_factory=list)  # XLSX only, in workbook order
    as_of: date | None = None  # the scored day the report shows
    summary: ReportSummary | None = None


def group_column(group_by: str) -> str:
    """The report column a `--group-by` value groups on ("plan_tier" → "Plan Tier")."""
    try:
        return GROUP_BY_COLUMNS[group_by]
    except KeyError:
        allowed = ", ".join(GROUP_BY_COLUMNS)
        raise ExportError(f"Cannot group by '{group_by}'. Choose one of: {allowed}.") from None


def order_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The table with the CONTRACT report columns first, in order, then any others as they came."""
    missing = [name for name in REPORT_COLUMNS if name not in table.columns]
    if missing:
        # The report table is built by our own code, so a missing column is our bug, not the user's.
        raise ValueError(f"report table lacks the columns {missing}")
    others = [name for name in table.columns if name not in REPORT_COLUMNS]
    return table[[*REPORT_COLUMNS, *others]]


def filter_report(table: pd.DataFrame, *, csm: str | None = None, segment: str | None = None) -> pd.DataFrame:
    """Keep one CSM's and/or one segment's accounts.

    A CSM is matched on the full name or the first name alone ("Sarah"), ignoring case; a segment on its name,
    ignoring case. A name that matches nothing raises ExportError naming the closest ones.
    """
    if csm:
        table = table[_name_matches(table["CSM Owner"], csm, what="CSM", option="--csm", first_name=True)]
    if segment:
        table = table[_name_matches(table["Segment"], segment, what="segment", option="--segment")]
    return table


def _name_matches(values: pd.Series, wanted: str, *, what: str, option: str, first_name: bool = False) -> pd.Series:
    folded = values.astype("string").str.strip().str.casefold()
    target = wanted.strip().casefold()
    mask = (folded == target).fillna(False)
    if first_name and not mask.any():
        mask = (folded.str.split(" ", n=1).str[0] == target).fillna(False)
        matched = sorted(values[mask.astype(bool)].dropna().astype(str).unique())
        if len(matched) > 1:
            raise ExportError(f"'{wanted}' could be {' or '.join(matched)}. Give the full name to {option}.")
    if mask.any():
        return mask.astype(bool)
    known = sorted(values.dropna().astype(str).unique())
    closest = [name for name, _score, _i in process.extract(wanted, known, limit=3)] if known else []
    hint = f" Closest: {', '.join(closest)}." if closest else f" The report has no {what} names."
    raise ExportError(f"No accounts for {what} '{wanted}'.{hint} Check the spelling given to {option}.")


def summarise_report(
    table: pd.DataFrame, *, group_by: str | None = None, bands: Sequence[str] | None = None
) -> ReportSummary:
    """Compute the summary block from the report table.

    Args:
        table: the report table (CONTRACT columns; more are allowed).
        group_by: a `--group-by` value; fills `groups` with one row per group.
        bands: the model's band names, best first. Without them bands are ranked by their accounts' median score.
    """
    status = table["Status"].astype("string").fillna("No score")
    score = pd.to_numeric(table["Health Score"], errors="coerce")
    arr = pd.to_numeric(table["ARR"], errors="coerce").fillna(0.0)
    total = len(table)

    per_band = pd.DataFrame({"count": status.value_counts(), "arr": arr.groupby(status).sum()})
    order = _band_order(per_band.index, score.groupby(status).median(), bands)
    band_rows = [
        views.BandSummary(
            band=band,
            count=int(per_band.at[band, "count"]) if band in per_band.index else 0,
            share=(float(per_band.at[band, "count"]) / total) if total and band in per_band.index else 0.0,
            arr=float(per_band.at[band, "arr"]) if band in per_band.index else 0.0,
            focus="",
        )
        for band in order
    ]

    at_risk = status != order[0] if order else pd.Series(False, index=table.index)
    upsell = _upsell_ready(table)
    upsell_rows = table[upsell].assign(_arr=arr[upsell]).sort_values("_arr", ascending=False, kind="stable")

    groups: list[views.GroupRow] = []
    label = None
    if group_by:
        label = group_column(group_by)
        groups = _group_rows(table[label], score, arr, status, order)

    return ReportSummary(
        accounts=total,
        total_arr=float(arr.sum()),
        average_score=float(score.mean()) if score.notna().any() else None,
        bands=band_rows,
        at_risk_accounts=int(at_risk.sum()),
        at_risk_arr=float(arr[at_risk].sum()),
        risk_drivers=_risk_drivers(table["Risk Notes"], arr),
        upsell_ready=_account_refs(upsell_rows.head(SUMMARY_UPSELL_LIMIT)),
        upsell_ready_count=int(upsell.sum()),
        upsell_ready_arr=float(arr[upsell].sum()),
        groups=groups,
        group_label=label,
    )


def _band_order(present: pd.Index, median_score: pd.Series, bands: Sequence[str] | None) -> list[str]:
    ranked = median_score.reindex(present).sort_values(ascending=False, na_position="last").index
    if bands is None:
        return [str(band) for band in ranked]
    # The model's bands first (even when empty, so the sheet shows "Red: 0"), then anything it does not know.
    return [*bands, *(str(band) for band in ranked if band not in bands)]


def split_risk_notes(notes: pd.Series) -> pd.Series:
    """One row per risk named in "Risk Notes" (`;`-separated), keeping the source row's index."""
    parts = notes.astype("string").str.split(";").explode().str.strip()
    return parts[parts.fillna("") != ""]


def _risk_drivers(notes: pd.Series, arr: pd.Series) -> list[views.RiskDriver]:
    risks = split_risk_notes(notes)
    if risks.empty:
        return []
    # A note may carry its figures ("Usage decline: −31%"); the driver is the part before them.
    titles = risks.str.split(r"\s*[:(—]", n=1, regex=True).str[0].str.strip()
    counted = pd.DataFrame({"row": titles.index, "title": titles.to_numpy(), "arr": arr.reindex(titles.index)})
    counted = counted.drop_duplicates(["row", "title"])  # an account counts once per driver
    top = (
        counted.groupby("title")
        .agg(accounts=("arr", "size"), arr=("arr", "sum"))
        .reset_index()
        .sort_values(["accounts", "arr", "title"], ascending=[False, False, True])
        .head(TOP_RISK_DRIVERS)
    )
    return [
        views.RiskDriver(title=str(title), accounts=int(accounts), arr=float(total))
        for title, accounts, total in top.itertuples(index=False, name=None)
    ]


def _upsell_ready(table: pd.DataFrame) -> pd.Series:
    if UPSELL_COLUMN not in table.columns:
        return pd.Series(False, index=table.index)
    return table[UPSELL_COLUMN].astype("string").str.strip().fillna("").ne("")


def _account_refs(rows: pd.DataFrame) -> list[views.AccountRef]:
    def maybe(value: Any) -> Any:
        return None if pd.isna(value) else value

    return [
        views.AccountRef(
            account_id=str(account_id),
            name=str(name),
            csm_owner=str(owner),
            score=maybe(score),
            band=maybe(band),
            arr=maybe(arr),
            delta=maybe(delta),
        )
        for account_id, name, owner, score, band, arr, delta in rows[
            ["Account ID", "Account Name", "CSM Owner", "Health Score", "Status", "ARR", "Trend vs Last Month"]
        ].itertuples(index=False, name=None)
    ]


def _group_rows(
    groups: pd.Series, score: pd.Series, arr: pd.Series, status: pd.Series, order: list[str]
) -> list[views.GroupRow]:
    key = groups.astype("string").fillna(_NO_GROUP_VALUE)
    stats = pd.DataFrame(
        {"accounts": key.value_counts(), "arr": arr.groupby(key).sum(), "score": score.groupby(key).mean()}
    )
    counts = pd.crosstab(key, status).reindex(columns=order, fill_value=0)
    return [
        views.GroupRow(
            group=str(name),
            accounts=int(row.accounts),
            arr=float(row.arr),
            average_score=None if pd.isna(row.score) else float(row.score),
            band_counts={band: int(counts.at[name, band]) for band in order},
        )
        for name, row in stats.sort_index().iterrows()  # one row per group, not per account
    ]


def export_report(
    engine: Engine,
    model: HealthModel,
    path: Path,
    *,
    format: ExportFormat,
    as_of: date | None = None,
    group_by: str | None = None,
    csm: str | None = None,
    segment: str | None = None,
) -> ExportResult:
    """The portfolio report as scored on `as_of` (default: the latest scored day), filtered, written to `path`.

    The one path behind `healthbot export` and `/health export`.

    Raises:
        bot.insights.NoScoresError: nothing is scored for that day; its notice says what to run.
        ExportError: a filter matches no one, or the folder does not exist.
    """
    if group_by:
        group_column(group_by)
    day = insights.scored_day(engine, as_of, exact=True)
    table = filter_report(insights.report_table(engine, model, as_of=day, group_by=group_by), csm=csm, segment=segment)
    summary = summarise_report(table, group_by=group_by, bands=[band.name for band in model.bands])
    scope = [str(table["CSM Owner"].iloc[0])] if csm else []
    scope += [f"{table['Segment'].iloc[0]} segment"] if segment else []
    title = "Customer health report" + (f" — {', '.join(scope)}" if scope else "")
    result = write_report(table, path, format=format, group_by=group_by, summary=summary, title=title, as_of=day)
    return replace(result, as_of=day, summary=summary)


FORMATS_BY_SUFFIX: dict[str, ExportFormat] = {".csv": "csv", ".xlsx": "xlsx"}


def report_format(path: Path, given: ExportFormat | None) -> ExportFormat:
    """The format to write: the one given, else the one the file name says; `-` (standard output) is CSV unless
    told otherwise.

    Raises:
        ExportError: the format given and the file's extension disagree, or neither says which.
    """
    named = FORMATS_BY_SUFFIX.get(path.suffix.lower()) if str(path) != "-" else None
    if given is not None and named is not None and given != named:
        raise ExportError(
            f"--format {given} does not match the file name {path} ({path.suffix} is {named}). "
            f"Use -o {path.with_suffix('.' + given)} or --format {named}."
        )
    chosen: ExportFormat | None = given or named or ("csv" if str(path) == "-" else None)
    if chosen is None:
        raise ExportError(
            f"Which format for {path}? Give --format csv or --format xlsx, or end the name in .csv or .xlsx."
        )
    return chosen


def write_report(
    table: pd.DataFrame,
    path: Path,
    *,
    format: ExportFormat,
    group_by: str | None = None,
    summary: ReportSummary | None = None,
    title: str = "Customer health report",
    as_of: date | None = None,
) -> ExportResult:
    """Write the report table to `path` as CSV or XLSX; the file appears whole or not at all.

    Args:
        table: the report table (`bot.insights.report_table`), already filtered.
        path: the file to write; its folder must exist.
        format: "csv" (one flat table for a CRM or BI import) or "xlsx" (a Summary sheet, then the accounts —
            one sheet per group when grouped).
        group_by: a `--group-by` value; XLSX gets one sheet per group, CSV keeps one table.
        summary: the summary block; computed from `table` when not given.
        title, as_of: shown at the top of the Summary sheet.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise ExportError(f"The folder {path.parent} does not exist. Create it or choose another path for -o.")
    table = order_columns(table)
    if group_by:
        group_column(group_by)  # refuse an unknown grouping before writing anything
    with _replacing(path) as partial:
        if format == "csv":
            _write_csv(table, partial)
            sheets: list[str] = []
        elif format == "xlsx":
            summary = summary or summarise_report(table, group_by=group_by)
            sheets = _write_xlsx(table, partial, group_by=group_by, summary=summary, title=title, as_of=as_of)
        else:
            raise ExportError(f"Unknown format '{format}'. Choose csv or xlsx.")
    return ExportResult(path=path, rows=len(table), format=format, sheets=sheets)


class _replacing:
    """Write to a temporary file beside `path` and move it into place only when writing succeeded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path

    def __enter__(self) -> Path:
        handle, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent)
        os.close(handle)
        self.partial = Path(name)
        return self.partial

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            os.replace(self.partial, self.path)
        else:
            self.partial.unlink(missing_ok=True)


def csv_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The table as the CSV carries it: plain rounded numbers, ISO dates, empty cells for no data."""
    out = table.copy()
    for name, decimals in CSV_DECIMALS.items():
        if name in out.columns:
            out[name] = pd.to_numeric(out[name], errors="coerce").round(decimals)
    for name in _date_columns(out):
        out[name] = pd.to_datetime(out[name], errors="coerce").dt.strftime("%Y-%m-%d")
    return out


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    # "%.15g" writes 45000 rather than 45000.0 and never falls into scientific notation for ARR-sized numbers.
    # UTF-8 with a byte-order mark: without it Excel reads the file as the local code page and "Zürich" garbles.
    csv_frame(table).to_csv(path, index=False, encoding="utf-8-sig", float_format="%.15g", lineterminator="\n")


def _date_columns(table: pd.DataFrame) -> list[str]:
    named = {"Last Touch", "Renewal Date"}
    return [
        name
        for name in table.columns
        if name in named or pd.api.types.is_datetime64_any_dtype(table[name]) or _holds_dates(table[name])
    ]


def _holds_dates(column: pd.Series) -> bool:
    if column.dtype != object:
        return False
    sample = column.dropna().head(20)
    return not sample.empty and all(isinstance(value, date) for value in sample)


# ---------------------------------------------------------------------------------------------------------- XLSX


def _write_xlsx(
    table: pd.DataFrame,
    path: Path,
    *,
    group_by: str | None,
    summary: ReportSummary,
    title: str,
    as_of: date | None,
) -> list[str]:
    # write_only streams rows to disk: 100,000 accounts stay well inside memory and time.
    workbook = Workbook(write_only=True)
    names = SheetNames()
    styles = _Styles(summary)
    _write_summary(workbook.create_sheet(names.add("Summary")), summary, styles, title=title, as_of=as_of)

    if group_by:
        key = table[group_column(group_by)].astype("string").fillna(_NO_GROUP_VALUE)
        sheets: dict[str, Any] = table.groupby(key, sort=True).indices
    else:
        sheets = {"Accounts": range(len(table))}
    accounts = _AccountSheets(table, styles)
    for name, rows in sheets.items():
        accounts.write(workbook.create_sheet(names.add(str(name))), rows)
    workbook.save(path)
    return names.taken


class SheetNames:
    """Sheet names Excel accepts: no []:*?/\\, at most 31 characters, unique ignoring case, never blank."""

    def __init__(self) -> None:
        self.taken: list[str] = []

    def add(self, wanted: str) -> str:
        """Reserve and return a sheet name for `wanted`, shortened or numbered as needed."""
        base = _SHEET_FORBIDDEN.sub(" ", wanted).strip().strip("'").strip() or "Sheet"
        if base.casefold() in _RESERVED_SHEET_NAMES:
            base += " (sheet)"
        name = base[:_SHEET_NAME_MAX].rstrip()
        number = 1
        while name.casefold() in {t.casefold() for t in self.taken}:
            number += 1
            suffix = f" ({number})"
            name = base[: _SHEET_NAME_MAX - len(suffix)].rstrip() + suffix
        self.taken.append(name)
        return name


def band_colours(band: str, order: Sequence[str] = ()) -> tuple[str, str]:
    """The (fill, font) colours of a band: by its name, else by its rank among the model's bands."""
    tone = fmt.band_tone(band, order)
    return BAND_COLOURS[tone] if tone else _OTHER_BAND_COLOUR


class _Styles:
    """The few cell styles the workbook uses, made once."""

    def __init__(self, summary: ReportSummary) -> None:
        self.order = [band.band for band in summary.bands]
        self._band_fills: dict[str, tuple[PatternFill, Font]] = {}

    def band(self, band: str) -> tuple[PatternFill, Font]:
        if band not in self._band_fills:
            fill, font = band_colours(band, self.order)
            self._band_fills[band] = (PatternFill("solid", fgColor=fill), Font(color=font, bold=True))
        return self._band_fills[band]


def _cell_values(table: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Every row as a tuple of plain Python values (None for no data), ready for openpyxl."""
    columns: list[list[Any]] = []
    dates = set(_date_columns(table))
    for name in table.columns:
        column = table[name]
        if name in dates:
            converted = pd.to_datetime(column, errors="coerce")
            columns.append([None if pd.isna(v) else v.date() for v in converted])
        elif pd.api.types.is_bool_dtype(column):
            columns.append([None if pd.isna(v) else bool(v) for v in column])
        elif pd.api.types.is_numeric_dtype(column):
            numbers = pd.to_numeric(column, errors="coerce").astype("float64")
            columns.append(numbers.astype(object).where(numbers.notna(), None).tolist())
        else:
            # Control characters are illegal in XLSX; openpyxl would refuse the whole file for one bad name.
            text = column.astype("string").str.replace(ILLEGAL_CHARACTERS_RE, "", regex=True)
            columns.append(text.astype(object).where(text.notna(), None).tolist())
    return list(zip(*columns, strict=True)) if columns else []


def _column_widths(table: pd.DataFrame) -> list[float]:
    dates = set(_date_columns(table))
    widths = []
    for name in table.columns:
        if name in NUMBER_FORMATS or name in dates:
            longest = 12  # "$1,234,567", "2026-11-24": formatted, not the raw text
        else:
            found = table[name].astype("string").str.len().max() if len(table) else 0
            longest = 0 if pd.isna(found) else int(found)
        widths.append(float(min(max(len(name), longest) + 2, _MAX_WIDTH)))
    return widths


def _header_row(sheet: WriteOnlyWorksheet, names: Sequence[str]) -> list[WriteOnlyCell]:
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.fill = HEADER_FILL
        cell.font = HEADER_FONT
        cell.alignment = Alignment(vertical="center")
        cells.append(cell)
    return cells


class _AccountSheets:
    """Writes sheets of account rows, all with the same columns, widths and cell styles.

    The styled cells (header, formats, band fills) are made once and reused for every row of every sheet: a
    write-only sheet serialises each row as it is appended, and styles belong to the workbook, not the sheet. With
    one sheet per CSM that is thousands of sheets, and making them per sheet would cost more than the rows.
    """

    def __init__(self, table: pd.DataFrame, styles: _Styles) -> None:
        self.columns = list(table.columns)
        self.values = _cell_values(table)
        self.widths = _column_widths(table)
        self.styles = styles
        self._header: list[WriteOnlyCell] | None = None
        self._make_row: Callable[[tuple[Any, ...]], list[Any]] | None = None

    def write(self, sheet: WriteOnlyWorksheet, rows: Sequence[int]) -> None:
        """Fill `sheet` with the header and the table's rows at positions `rows`."""
        if self._header is None or self._make_row is None:
            self._header = _header_row(sheet, self.columns)
            self._make_row = _row_maker(sheet, self.columns, self.styles)
        # Widths, frozen header and filter must be set before the first row: write-only sheets stream.
        for index, width in enumerate(self.widths, 1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(self.columns))}{len(rows) + 1}"
        sheet.append(self._header)
        make_row = self._make_row
        for position in rows:
            sheet.append(make_row(self.values[position]))


def _row_maker(
    sheet: WriteOnlyWorksheet, columns: Sequence[str], styles: _Styles
) -> Callable[[tuple[Any, ...]], list[Any]]:
    """A function turning one row of values into cells with the right format, reusing one styled cell per column.

    Reusing cells is safe because a write-only sheet serialises each row as it is appended.
    """
    formatted: dict[int, WriteOnlyCell] = {}
    for index, name in enumerate(columns):
        if name in NUMBER_FORMATS:
            formatted[index] = WriteOnlyCell(sheet)
            formatted[index].number_format = NUMBER_FORMATS[name]
        elif name in ("Last Touch", "Renewal Date"):
            formatted[index] = WriteOnlyCell(sheet)
            formatted[index].number_format = DATE_FORMAT
    status_index = list(columns).index("Status")
    status_cells: dict[str, WriteOnlyCell] = {}

    def status_cell(band: str) -> WriteOnlyCell:
        if band not in status_cells:
            cell = WriteOnlyCell(sheet)
            cell.fill, cell.font = styles.band(band)
            status_cells[band] = cell
        cell = status_cells[band]
        cell.value = band
        return cell

    def make_row(row: tuple[Any, ...]) -> list[Any]:
        cells: list[Any] = list(row)
        for index, value in enumerate(row):
            if value is None:
                continue
            if index == status_index:
                cells[index] = status_cell(value)
            elif index in formatted:
                cell = formatted[index]
                cell.value = value
                cells[index] = cell
            elif isinstance(value, str) and value.startswith("="):
                cells[index] = _text_cell(sheet, value)
            elif isinstance(value, date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = DATE_FORMAT
                cells[index] = cell
        return cells

    return make_row


def _text_cell(sheet: WriteOnlyWorksheet, text: str) -> WriteOnlyCell:
    # openpyxl would store "=…" as a formula; customer-supplied text must stay text.
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


def _write_summary(
    sheet: WriteOnlyWorksheet, summary: ReportSummary, styles: _Styles, *, title: str, as_of: date | None
) -> None:
    for letter, width in zip("ABCDEFGH", (34, 16, 16, 16, 14, 14, 14, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    lines = _SummaryLines(sheet, styles)
    money, whole = lines.formatted("$#,##0"), lines.formatted("0")
    lines.title(title + (f" — as of {as_of.isoformat()}" if as_of else ""))

    lines.header(["Key figures", "Value"])
    lines.row(["Accounts", summary.accounts])
    lines.row(["Total ARR", money(summary.total_arr)])
    lines.row(["Average health score", whole(summary.average_score)])
    lines.row(["At-risk accounts", summary.at_risk_accounts])
    lines.row(["At-risk ARR", money(summary.at_risk_arr)])
    lines.row(["Upsell-ready accounts", summary.upsell_ready_count])
    lines.row(["Upsell-ready ARR", money(summary.upsell_ready_arr)])

    lines.header(["Status", "Accounts", "Share", "ARR"])
    share = lines.formatted("0%")
    for band in summary.bands:
        lines.row([lines.band(band.band), band.count, share(band.share), money(band.arr)])

    lines.header(["Top risk drivers", "Accounts", "ARR"])
    for driver in summary.risk_drivers:
        lines.row([driver.title, driver.accounts, money(driver.arr)])
    if not summary.risk_drivers:
        lines.row(["No risks noted"])

    shown = len(summary.upsell_ready)
    more = f" ({shown} of {summary.upsell_ready_count})" if summary.upsell_ready_count > shown else ""
    lines.header([f"Upsell-ready accounts, biggest ARR first{more}", "CSM Owner", "Health Score", "ARR", "Status"])
    for ref in summary.upsell_ready:
        lines.row([ref.name, ref.csm_owner, whole(ref.score), money(ref.arr), lines.band(ref.band)])
    if not summary.upsell_ready:
        lines.row(["None yet"])

    if summary.groups:
        order = [band.band for band in summary.bands]
        lines.header([summary.group_label or "Group", "Accounts", "ARR", "Average score", *order])
        for group in summary.groups:
            counts = [group.band_counts.get(band, 0) for band in order]
            lines.row([group.group, group.accounts, money(group.arr), whole(group.average_score), *counts])


class _SummaryLines:
    """Rows of the Summary sheet: a title, then sections each opened by a header row."""

    def __init__(self, sheet: WriteOnlyWorksheet, styles: _Styles) -> None:
        self.sheet = sheet
        self.styles = styles
        self.started = False

    def title(self, text: str) -> None:
        cell = WriteOnlyCell(self.sheet, value=text)
        cell.font = TITLE_FONT
        self.sheet.append([cell])
        self.started = True

    def header(self, names: Sequence[str]) -> None:
        if self.started:
            self.sheet.append([])  # a blank row between sections
        self.sheet.append(_header_row(self.sheet, names))
        self.started = True

    def row(self, values: Sequence[Any]) -> None:
        self.sheet.append(
            [_text_cell(self.sheet, v) if isinstance(v, str) and v.startswith("=") else v for v in values]
        )

    def formatted(self, number_format: str) -> Callable[[float | None], WriteOnlyCell | None]:
        """A maker of cells showing a number in `number_format`."""

        def cell(value: float | None) -> WriteOnlyCell | None:
            if value is None:
                return None
            made = WriteOnlyCell(self.sheet, value=value)
            made.number_format = number_format
            return made

        return cell

    def band(self, band: str | None) -> WriteOnlyCell | None:
        """A Status cell filled with the band's colour."""
        if band is None:
            return None
        made = WriteOnlyCell(self.sheet, value=band)
        made.fill, made.font = self.styles.band(band)
        return made
