"""Import accounts and metrics (CSV or XLSX files, or DataFrames) into the store.

Every cell is checked with vectorised pandas before anything is written. Every bad row is reported — file, row as a
spreadsheet shows it (the header is row 1), column, value, what was wrong and what was expected — and a run writes
all of its rows in one transaction or none of them. Rows are upserted on account_id / (account_id, as_of) with
SQLAlchemy Core, and a row whose values are already stored is left alone, so re-importing changes nothing.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype, union_categoricals
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from sqlalchemy import Table, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from bot.store import columns as schema
from bot.store import day_copies, init_db, read_session, write_session
from bot.store.db import distinct_values, page_cache
from bot.store.tables import ACCOUNTS, METRICS

TableKind = Literal["accounts", "metrics"]

COLUMNS: dict[TableKind, dict[str, schema.Kind]] = {
    "accounts": schema.ACCOUNT_COLUMNS,
    "metrics": schema.METRIC_COLUMNS,
}
REQUIRED: dict[TableKind, tuple[str, ...]] = {
    "accounts": schema.ACCOUNT_REQUIRED,
    "metrics": schema.METRIC_REQUIRED,
}
KEYS: dict[TableKind, list[str]] = {"accounts": ["account_id"], "metrics": ["account_id", "as_of"]}
TABLES: dict[TableKind, Table] = {
    "accounts": ACCOUNTS,
    "metrics": METRICS,
}

MAX_ACCOUNT_ID = 64  # the store's key length
# The longest text a column takes. Longer is a mistake (a pasted paragraph, a shifted column), and a name that long
# would crowd every message it appears in.
MAX_TEXT = {"name": 200, "csm_owner": 100, "csm_slack_id": 32, "csm_email": 254, "tags": 1_000}
MAX_OTHER_TEXT = 100  # segment, region, industry, plan tier, lifecycle stage
TEXT_NAMES = {
    "account_id": "an account ID",
    "name": "an account name",
    "csm_owner": "a CSM name",
    "csm_slack_id": "a Slack user ID",
    "csm_email": "an email address",
    "tags": "tags",
}
MAX_INTEGER = 2_147_483_647  # the store's whole-number columns (PostgreSQL INTEGER)
SHOWN_VALUE = 80  # characters of a bad value quoted in an error
KEPT_ERRORS = 1_000  # ImportFailed carries this many in full; beyond it only the count
PRINTED_ERRORS = 50
READ_CHUNK_ROWS = 250_000  # a progress step while reading big CSV files
WRITE_BATCH_ROWS = 20_000
PARAMETERS_PER_STATEMENT = 2_000  # well inside SQLite's 32,766 and PostgreSQL's 65,535
PROGRESS_MIN_ROWS = 5_000  # below this a run is over before a bar would be read
PROGRESS_MIN_BYTES = 512 * 1024

# Header spellings people use for our columns besides the column's own name (compared after normalising).
HEADER_ALIASES = {
    "accountname": "name",
    "csm": "csm_owner",
    "csmname": "csm_owner",
    "asofdate": "as_of",
    "snapshotdate": "as_of",
}
# Cells that mean "no data" in a number, date, yes/no or plan-change column; a text column only treats "" so.
MISSING_WORDS = frozenset({"", "n/a", "na", "null", "none", "nan", "-"})
TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})
ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
CSV_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class RowError:
    """One bad cell, or a problem with a whole file (row and column None) or a missing column (row 1)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    problem: str
    expected: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}" if self.row is not None else f" column {self.column}"
        if self.value:
            value = self.value if len(self.value) <= SHOWN_VALUE else self.value[: SHOWN_VALUE - 1] + "…"
            return f'{where}: "{value}" {self.problem}; expected {self.expected}'
        separator = " " if self.column is not None else ": "
        return f"{where}{separator}{self.problem}; expected {self.expected}"


class ImportFailed(Exception):
    """The run had bad rows or unreadable files, so nothing was written.

    `errors` holds the first problems in file and row order (up to KEPT_ERRORS); `total` counts all of them.
    """

    def __init__(self, errors: list[RowError], total: int | None = None) -> None:
        self.errors = errors
        self.total = len(errors) if total is None else total
        super().__init__(self.format())

    def format(self, limit: int = PRINTED_ERRORS) -> str:
        """The report a person reads: a headline, the first `limit` problems, and how many more there are."""
        files = len({error.file for error in self.errors})
        noun, them = ("problem", "it") if self.total == 1 else ("problems", "them")
        in_files = f" in {files} file{'s' if files != 1 else ''}" if files else ""
        lines = [f"Nothing was imported: {self.total:,} {noun}{in_files}. Fix {them} and run the import again."]
        lines += [f"  {error}" for error in self.errors[:limit]]
        if self.total > limit:
            lines.append(f"  … and {self.total - limit:,} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class ImportReport:
    """What a run wrote: rows new to the store, rows whose values changed, rows already as imported."""

    accounts_inserted: int = 0
    accounts_updated: int = 0
    accounts_unchanged: int = 0
    metrics_inserted: int = 0
    metrics_updated: int = 0
    metrics_unchanged: int = 0
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line per table, in the words of the CLI."""

        def line(what: str, inserted: int, updated: int, unchanged: int) -> str:
            return (
                f"{what}: {inserted + updated + unchanged:,} in the files — {inserted:,} new, {updated:,} updated, "
                f"{unchanged:,} unchanged"
            )

        return "\n".join(
            [
                line("Accounts", self.accounts_inserted, self.accounts_updated, self.accounts_unchanged),
                line("Metric rows", self.metrics_inserted, self.metrics_updated, self.metrics_unchanged),
            ]
        )


def import_files(engine: Engine, paths: Sequence[Path | str], *, progress: bool = True) -> ImportReport:
    """Import CSV/XLSX files of accounts and/or metrics (kind told by their columns) in one transaction.

    Raises:
        ImportFailed: some file could not be read or some row is bad; nothing was written.
    """
    problems = _Problems()
    warnings: list[str] = []
    parts: list[_Part] = []
    with _progress_bars(progress) as bars:
        for order, path in enumerate(Path(p) for p in paths):
            for read in _read_file(path, order, problems, warnings, bars):
                parts += _split(read, order, problems, warnings)
        return _check_and_write(engine, parts, problems, warnings, bars)


def import_frames(
    engine: Engine,
    *,
    accounts: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    source: str = "data",
) -> ImportReport:
    """Import in-code DataFrames with the same checks and upsert as files; rows are numbered as in a sheet.

    Raises:
        ImportFailed: some row is bad; nothing was written.
    """
    problems = _Problems()
    warnings: list[str] = []
    parts: list[_Part] = []
    for order, (kind, frame) in enumerate((("accounts", accounts), ("metrics", metrics))):
        if frame is None:
            continue
        frame = frame.reset_index(drop=True)
        rows = np.arange(2, len(frame) + 2)
        headers = [str(header) for header in frame.columns]
        read = _Read(f"{source} {kind}", headers, frame.set_axis(range(len(headers)), axis=1), rows)
        parts += _split(read, order, problems, warnings, kinds=[kind])  # type: ignore[list-item]
    with _progress_bars(False) as bars:
        return _check_and_write(engine, parts, problems, warnings, bars)


# --- reading ---------------------------------------------------------------------------------------------------


@dataclass
class _Part:
    """The rows one file (or sheet, or frame) holds for one table."""

    source: str
    order: int  # the file's place in the run, so problems print in the order files were given
    kind: TableKind
    raw: pd.DataFrame  # our column names, values as read, positional index
    rows: np.ndarray  # the spreadsheet row number of each row
    clean: pd.DataFrame = field(default_factory=pd.DataFrame)
    bad: dict[str, np.ndarray] = field(default_factory=dict)  # per column, the cells already reported


@dataclass
class _Read:
    """What one file or sheet holds, before we know which tables it feeds."""

    source: str  # the name shown in messages
    headers: list[str]  # every header, as written
    frame: pd.DataFrame  # columns named by header position; a CSV reader leaves out columns we do not know
    rows: np.ndarray  # the spreadsheet row number of each row


def _read_file(path: Path, order: int, problems: _Problems, warnings: list[str], bars: _Bars) -> list[_Read]:
    source = path.name
    if not path.is_file():
        problem = "is a folder" if path.is_dir() else f"does not exist (looked for {path.resolve()})"
        problems.file(source, order, problem, "a path to a CSV or XLSX file")
        return []
    suffix = path.suffix.lower()
    if suffix == ".xls":
        problems.file(source, order, "is an old-style .xls workbook", "a .xlsx workbook or a CSV (save it as one)")
        return []
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, order, problems, warnings, bars)
    return _read_csv(path, order, problems, bars)


# Byte-order marks, longest first: the encoding each one announces (None: one we refuse, named).
BOMS: tuple[tuple[bytes, str | None, str], ...] = (
    (b"\xff\xfe\x00\x00", None, "UTF-32"),
    (b"\x00\x00\xfe\xff", None, "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8"),
    (b"\xff\xfe", "utf-16", "UTF-16"),
    (b"\xfe\xff", "utf-16", "UTF-16"),
)
SNIFF_BYTES = 4096


def _read_csv(path: Path, order: int, problems: _Problems, bars: _Bars) -> list[_Read]:
    source = path.name
    encodings = _csv_encodings(path)
    if isinstance(encodings, str):
        problems.file(source, order, encodings, "a CSV file saved as UTF-8 (Excel: CSV UTF-8), UTF-16 or Windows-1252")
        return []
    for encoding in encodings:
        try:
            return [_read_csv_as(path, encoding, bars)]
        except UnicodeError:
            continue
        except pd.errors.EmptyDataError:
            problems.file(source, order, "is empty", "a header row naming the columns, then one row per record")
            return []
        except (pd.errors.ParserError, csv.Error) as err:
            problems.file(source, order, f"cannot be read as CSV ({err})", "the same number of fields on every line")
            return []
    problems.file(
        source, order, "is not text in UTF-8, UTF-16 or Windows-1252", "a CSV file saved as UTF-8 (Excel: CSV UTF-8)"
    )
    return []


def _csv_encodings(path: Path) -> list[str] | str:
    """The encodings to read a CSV file with, in order, told by its byte-order mark or the look of its first bytes;
    a string says why it cannot be read as text at all."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    for bom, encoding, name in BOMS:
        if head.startswith(bom):
            return [encoding] if encoding else f"is {name} text, which is not supported"
    if b"\x00" in head:
        # UTF-16 without a mark: mostly-ASCII text has a NUL beside every character, after it (LE) or before (BE).
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even == 0:
            return ["utf-16-le"]
        if even > len(head) // 4 and odd == 0:
            return ["utf-16-be"]
        return "is not a text file (it holds NUL bytes)"
    return ["utf-8-sig", "cp1252"]  # Excel on Windows saves CSV in cp1252 unless told otherwise


def _read_csv_as(path: Path, encoding: str, bars: _Bars) -> _Read:
    with path.open(encoding=encoding, newline="") as handle:
        first_line = handle.readline()
    if not first_line.strip():
        raise pd.errors.EmptyDataError
    delimiter = max(CSV_DELIMITERS, key=first_line.count)
    headers = next(csv.reader([first_line], delimiter=delimiter))
    recognised = _recognise(headers)
    if not recognised:
        return _Read(path.name, headers, pd.DataFrame(), np.empty(0, dtype=np.int64))
    # Only our columns are read. Text-like columns are read as categories: a metrics file repeats the same few
    # dates and account IDs on every row, so this keeps 1.3M rows small and lets each distinct value be checked once.
    dtypes = {
        headers[position]: "category"
        for position, column in recognised.items()
        if _column_kind(column) not in ("number", "integer")
    }
    size = path.stat().st_size
    task = bars.add(f"Reading {path.name}", size) if size >= PROGRESS_MIN_BYTES else None
    chunks = []
    with path.open("rb") as handle:
        reader = pd.read_csv(
            handle,
            sep=delimiter,
            encoding=encoding,
            usecols=sorted(recognised),
            dtype=dtypes,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,  # so row numbers match what a spreadsheet shows
            chunksize=READ_CHUNK_ROWS,
        )
        for chunk in reader:
            chunks.append(chunk)
            bars.update(task, handle.tell())
    if not chunks:  # a header and no rows
        return _Read(path.name, headers, pd.DataFrame(columns=sorted(recognised), dtype=object), np.empty(0, np.int64))
    frame = _concat_chunks(chunks)
    frame.columns = pd.Index(sorted(recognised))
    rows = frame.index.to_numpy() + 2
    return _Read(path.name, headers, frame.reset_index(drop=True), rows)


def _concat_chunks(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    if len(chunks) == 1:
        return chunks[0]
    merged = {}
    for column in chunks[0].columns:
        pieces = [chunk[column] for chunk in chunks]
        if isinstance(pieces[0].dtype, pd.CategoricalDtype):
            # Each chunk has its own categories; union them rather than fall back to one string per row.
            pieces = [piece.cat.set_categories(piece.cat.categories.astype(str)) for piece in pieces]
            merged[column] = pd.Series(union_categoricals(pieces), index=pd.concat(pieces).index)
        else:
            merged[column] = pd.concat(pieces)
    return pd.DataFrame(merged)


def _read_xlsx(path: Path, order: int, problems: _Problems, warnings: list[str], bars: _Bars) -> list[_Read]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        problems.file(path.name, order, f"is not a readable XLSX workbook ({err})", "a workbook saved as .xlsx")
        return []
    reads: list[_Read] = []
    skipped: list[str] = []
    try:
        sheets = workbook.worksheets
        for sheet in sheets:
            source = path.name if len(sheets) == 1 else f"{path.name} (sheet {sheet.title})"
            total = sheet.max_row or 0
            task = bars.add(f"Reading {source}", total) if total >= PROGRESS_MIN_ROWS else None
            cells = sheet.iter_rows(min_row=1, values_only=True)
            header = next(cells, None)
            headers = ["" if value is None else str(value) for value in (header or ())]
            if len(sheets) > 1 and "account_id" not in _recognise(headers).values():
                skipped.append(sheet.title)
                continue
            values, rows = [], []
            width = len(headers)
            for number, row in enumerate(cells, start=2):
                texts = [_cell_text(value) or None for value in (*row, *[None] * width)[:width]]
                if any(texts):
                    values.append(texts)
                    rows.append(number)
                if task is not None and number % 10_000 == 0:
                    bars.update(task, number)
            bars.update(task, total)
            frame = pd.DataFrame(values, columns=pd.RangeIndex(width), dtype=object)
            reads.append(_Read(source, headers, frame, np.asarray(rows, dtype=np.int64)))
    finally:
        workbook.close()
    if reads and skipped:
        warnings.append(f"{path.name}: sheets without an account_id column were not read: {', '.join(skipped)}")
    if not reads:
        problems.file(
            path.name,
            order,
            "has no sheet with an account_id column",
            "a sheet whose first row names the columns (account_id, name, csm_owner or account_id, as_of)",
        )
    return reads


# --- which columns, which table ----------------------------------------------------------------------------------


def _normalise_header(header: object) -> str:
    return re.sub(r"[^0-9a-z]+", "", str(header).lower())


_KNOWN_HEADERS = {_normalise_header(name): name for name in {**schema.ACCOUNT_COLUMNS, **schema.METRIC_COLUMNS}}
_KNOWN_HEADERS.update(HEADER_ALIASES)


def _recognise(headers: Sequence[object]) -> dict[int, str]:
    """Positions of the headers we know, mapped to our column names (the first of a repeated column wins)."""
    found: dict[int, str] = {}
    for position, header in enumerate(headers):
        column = _KNOWN_HEADERS.get(_normalise_header(header))
        if column is not None and column not in found.values():
            found[position] = column
    return found


def _column_kind(column: str) -> schema.Kind:
    return schema.ACCOUNT_COLUMNS.get(column) or schema.METRIC_COLUMNS[column]


def _split(
    read: _Read,
    order: int,
    problems: _Problems,
    warnings: list[str],
    *,
    kinds: list[TableKind] | None = None,
) -> list[_Part]:
    """Name the file's columns ours, tell which tables it feeds, and cut it into one part per table."""
    source, headers = read.source, read.headers
    recognised = _recognise(headers)
    names = set(recognised.values())
    repeated = [h for i, h in enumerate(headers) if i not in recognised and _KNOWN_HEADERS.get(_normalise_header(h))]
    if repeated:
        warnings.append(f"{source}: repeated columns not stored (the first of each is used): {', '.join(repeated)}")
    unknown = [h for i, h in enumerate(headers) if i not in recognised and h not in repeated and h.strip()]

    if kinds is None:
        kinds = _detect_kinds(names)
        if not kinds:
            wants_metrics = bool(names & (set(schema.METRIC_COLUMNS) - {"account_id"}))
            if wants_metrics:
                problems.missing_column(source, order, "as_of", "metrics")
            else:
                problems.file(
                    source,
                    order,
                    "has none of the columns that make an accounts or a metrics file",
                    "an accounts file with account_id, name, csm_owner or a metrics file with account_id, as_of",
                )
            return []

    used = set().union(*(COLUMNS[kind] for kind in kinds))
    elsewhere = [column for column in recognised.values() if column not in used]
    if unknown:
        warnings.append(f"{source}: columns Healthbot does not know were not stored: {', '.join(unknown)}")
    if elsewhere:
        other = "a metrics file (with as_of)" if "accounts" in kinds else "an accounts file (with name, csm_owner)"
        warnings.append(f"{source}: columns that belong in {other} were not stored: {', '.join(elsewhere)}")

    renamed = read.frame[sorted(recognised)].set_axis([recognised[position] for position in sorted(recognised)], axis=1)
    parts = []
    for kind in kinds:
        missing = [column for column in REQUIRED[kind] if column not in names]
        for column in missing:
            problems.missing_column(source, order, column, kind)
        if missing:
            continue
        columns = [column for column in COLUMNS[kind] if column in names]  # schema order
        raw, rows = renamed[columns].reset_index(drop=True), read.rows
        blank = raw.isna().all(axis=1).to_numpy()  # blank lines between rows are not records
        if blank.any():
            raw, rows = raw[~blank].reset_index(drop=True), rows[~blank]
        if not len(raw):
            warnings.append(f"{source}: has no rows under its header, so nothing was read from it")
        parts.append(_Part(source, order, kind, raw, rows))
    return parts


def _detect_kinds(names: set[str]) -> list[TableKind]:
    kinds: list[TableKind] = []
    account_details = names & (set(schema.ACCOUNT_COLUMNS) - {"account_id"})
    if "as_of" in names:
        kinds.append("metrics")
        # A metrics export often carries the account's name for readability; only name + owner make it accounts.
        if {"name", "csm_owner"} <= names:
            kinds.append("accounts")
    elif account_details:
        kinds.append("accounts")
    return kinds


# --- checking cells ----------------------------------------------------------------------------------------------


@dataclass
class _Found:
    """Bad cells of one column of one part with one problem, kept as arrays until they are printed."""

    part: _Part
    positions: np.ndarray
    column: str
    problem: str | list[str]
    expected: str


class _Problems:
    """Everything wrong with the run so far."""

    def __init__(self) -> None:
        self.found: list[_Found] = []
        self.whole: list[tuple[int, RowError]] = []  # (file order, error) for files and columns

    def __bool__(self) -> bool:
        return bool(self.found or self.whole)

    def file(self, source: str, order: int, problem: str, expected: str) -> None:
        self.whole.append((order, RowError(source, None, None, None, problem, expected)))

    def missing_column(self, source: str, order: int, column: str, kind: TableKind) -> None:
        needed = ", ".join(REQUIRED[kind])
        noun = "an accounts" if kind == "accounts" else "a metrics"
        self.whole.append(
            (order, RowError(source, 1, column, None, "is missing", f"{noun} file to have the columns {needed}"))
        )

    def cells(self, part: _Part, bad: np.ndarray, column: str, problem: str | list[str], expected: str) -> np.ndarray:
        """Record the cells where `bad` is true (a mask, or positions when `problem` is a list); return positions."""
        positions = np.flatnonzero(bad) if bad.dtype == bool else bad
        if len(positions):
            self.found.append(_Found(part, positions, column, problem, expected))
        return positions

    def failure(self) -> ImportFailed:
        """The run's problems in file, row and column order, the first KEPT_ERRORS of them in full."""
        total = len(self.whole) + sum(len(found.positions) for found in self.found)
        keyed = [((order, error.row or 0, -1), error) for order, error in self.whole]
        if self.found:
            # Sort every bad cell without building an object per cell; only the first ones become RowErrors.
            column_order = {name: i for i, name in enumerate({**schema.ACCOUNT_COLUMNS, **schema.METRIC_COLUMNS})}
            which = np.concatenate([np.full(len(f.positions), i) for i, f in enumerate(self.found)])
            index = np.concatenate([np.arange(len(f.positions)) for f in self.found])
            files = np.concatenate([np.full(len(f.positions), f.part.order) for f in self.found])
            rows = np.concatenate([f.part.rows[f.positions] for f in self.found])
            columns = np.concatenate([np.full(len(f.positions), column_order[f.column]) for f in self.found])
            for i in np.lexsort((columns, rows, files))[:KEPT_ERRORS]:
                found, k = self.found[which[i]], index[i]
                position = found.positions[k]
                problem = found.problem if isinstance(found.problem, str) else found.problem[k]
                value = _cell_text(found.part.raw[found.column].iloc[position]) or None
                error = RowError(found.part.source, int(rows[i]), found.column, value, problem, found.expected)
                keyed.append(((int(files[i]), int(rows[i]), int(columns[i])), error))
        keyed.sort(key=lambda item: item[0])
        return ImportFailed([error for _, error in keyed[:KEPT_ERRORS]], total)


def _cell_text(value: object) -> str:
    """A cell as a person would read it: dates as ISO, 12.0 as 12, yes/no as true/false, no data as ""."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, datetime):  # also pd.Timestamp
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | np.floating):
        number = float(value)
        if np.isnan(number):
            return ""
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return str(value).strip()


def _distinct(raw: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes per row (-1 = empty) and the distinct values as stripped text, so each distinct value is parsed once."""
    if isinstance(raw.dtype, pd.CategoricalDtype):
        codes = raw.cat.codes.to_numpy()
        uniques: Sequence[Any] = raw.cat.categories
    else:
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    if pd.api.types.infer_dtype(uniques, skipna=True) in ("string", "empty"):
        texts = pd.Series(np.asarray(uniques, dtype=object)).str.strip()  # the usual CSV case, vectorised
    else:
        texts = pd.Series([_cell_text(value) for value in uniques], dtype=object)
    return np.asarray(codes), texts


def _parse_numbers(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers from text such as "$45,000", "1,200" or "60%" (= 0.6); returns values and which texts were fine."""
    lowered = texts.str.lower()
    missing = lowered.isin(MISSING_WORDS).to_numpy()
    cleaned = texts.str.replace(r"[\s$]", "", regex=True)
    percent = cleaned.str.endswith("%").to_numpy()
    cleaned = cleaned.str.rstrip("%")
    has_comma = cleaned.str.contains(",", regex=False).to_numpy()
    grouped = cleaned.str.match(THOUSANDS.pattern).to_numpy()
    # "1,5" is a European decimal or a typo, not one thousand five hundred: refuse it rather than guess.
    cleaned = cleaned.where(~has_comma | grouped, "not a number").str.replace(",", "", regex=False)
    values = pd.to_numeric(cleaned.where(~missing, None), errors="coerce").to_numpy(dtype=float)
    values = np.where(percent, values / 100, values)
    fine = missing | np.isfinite(values)
    return np.where(missing | ~fine, np.nan, values), fine


def _parse_texts(kind: schema.Kind, texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Values for the distinct texts of a date, yes/no, tags, plan-change or text column, and which were fine."""
    lowered = texts.str.lower()
    missing = (texts == "") if kind == "text" else lowered.isin(MISSING_WORDS)
    values: pd.Series
    if kind == "date":
        day = texts.str.extract(ISO_DATE, expand=False)
        parsed = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
        fine = missing | parsed.notna()
        values = day.where(parsed.notna(), None)
    elif kind == "boolean":
        fine = missing | lowered.isin(TRUE_WORDS | FALSE_WORDS)
        values = pd.Series([word in TRUE_WORDS for word in lowered], dtype=object)
    elif kind == "plan_change":
        fine = missing | lowered.isin(schema.PLAN_CHANGES)
        values = lowered
    elif kind == "tags":
        fine = pd.Series(True, index=texts.index)
        values = pd.Series([";".join(t.strip() for t in text.split(";") if t.strip()) for text in texts], dtype=object)
        missing = missing | (values == "")
    else:
        fine = pd.Series(True, index=texts.index)
        values = texts
    values = values.astype(object).where(fine & ~missing, None)
    return values.to_numpy(dtype=object), fine.to_numpy(dtype=bool)


def _expected(column: str, kind: schema.Kind) -> str:
    if column in schema.METRIC_RANGES:
        low, high = schema.METRIC_RANGES[column]
        share = " (a share; a percentage such as 60% also works)" if high == 1 else ""
        return f"{low:g}–{high:g}{share}"
    if kind == "date":
        return "a date as YYYY-MM-DD, e.g. 2026-03-15"
    if kind == "boolean":
        return "true/false, yes/no or 1/0"
    if kind == "plan_change":
        return f"{', '.join(schema.PLAN_CHANGES[:-1])} or {schema.PLAN_CHANGES[-1]}, or empty"
    whole = "a whole number" if kind == "integer" else "a number"
    if column in schema.NON_NEGATIVE:
        return f"{whole} 0 or more" + (", e.g. 45000 or $45,000" if kind == "number" else "")
    return whole


PARSE_PROBLEMS: dict[schema.Kind, str] = {
    "number": "is not a number",
    "integer": "is not a number",
    "date": "is not a date",
    "boolean": "is not a yes/no value",
    "plan_change": "is not a plan change",
}
EMPTY_EXPECTED = {
    "account_id": "an account ID in every row",
    "name": "the account's name in every row",
    "csm_owner": "the CSM's name in every row",
    "as_of": "the snapshot date (YYYY-MM-DD) in every row",
}


def _check_part(part: _Part, problems: _Problems) -> None:
    """Turn the part's raw cells into typed values, recording every cell that cannot be one."""
    clean = {}
    for column in part.raw.columns:
        clean[column], part.bad[column] = _check_column(part, column, _column_kind(column), problems)
    part.clean = pd.DataFrame(clean)


def _check_column(part: _Part, column: str, kind: schema.Kind, problems: _Problems) -> tuple[pd.Series, np.ndarray]:
    raw = part.raw[column]
    expected = _expected(column, kind)
    numeric = kind in ("number", "integer")
    if numeric and is_numeric_dtype(raw.dtype) and not is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype=float, na_value=np.nan)
        bad = np.isinf(values)
    else:
        codes, texts = _distinct(raw)
        parsed, fine = _parse_numbers(texts) if numeric else _parse_texts(kind, texts)
        # Code -1 (an empty cell) picks the appended "no data" at the end.
        nothing = np.array([np.nan if numeric else None], dtype=parsed.dtype)
        values = np.append(parsed, nothing)[codes]
        bad = ~np.append(fine, True)[codes]
    problems.cells(part, bad, column, PARSE_PROBLEMS.get(kind, "is not valid"), expected)

    if numeric:
        values = np.where(bad, np.nan, values).astype(float)
        checks: list[tuple[np.ndarray, str]] = []
        if column in schema.METRIC_RANGES:
            low, high = schema.METRIC_RANGES[column]
            checks.append(((values < low) | (values > high), "is out of range"))
        elif column in schema.NON_NEGATIVE:
            checks.append((values < 0, "is negative"))
        if kind == "integer":
            checks.append((~np.isnan(values) & (values != np.floor(values)), "is not a whole number"))
            too_big = f"is too large to store (whole numbers go up to {MAX_INTEGER:,} either side of zero)"
            checks.append((np.abs(np.nan_to_num(values)) > MAX_INTEGER, too_big))
        for failing, problem in checks:
            failing = failing & ~bad
            problems.cells(part, failing, column, problem, expected)
            bad = bad | failing
        values[bad] = np.nan
        return (pd.Series(values).astype("Int64") if kind == "integer" else pd.Series(values)), bad

    series = pd.Series(values, dtype=object)
    if column in EMPTY_EXPECTED:
        problems.cells(part, series.isna().to_numpy() & ~bad, column, "is empty", EMPTY_EXPECTED[column])
    if kind in ("text", "tags"):
        bad = _check_text(part, column, parsed, codes, bad, problems)
    return series.where(~bad, None), bad


def _check_text(
    part: _Part, column: str, distinct: np.ndarray, codes: np.ndarray, bad: np.ndarray, problems: _Problems
) -> np.ndarray:
    """Refuse text the store cannot hold (a NUL character) or over its column's cap; measured once per distinct
    value. Returns the column's bad cells with these added."""
    texts = pd.Series(np.append(distinct, ""), dtype=object).fillna("")
    lengths = texts.str.len().to_numpy()[codes]
    has_nul = texts.str.contains("\x00", regex=False).to_numpy()[codes] & ~bad
    problems.cells(
        part, has_nul, column, "contains a NUL character", "text without NUL characters (save the file again)"
    )
    bad = bad | has_nul
    limit = MAX_ACCOUNT_ID if column == "account_id" else MAX_TEXT.get(column, MAX_OTHER_TEXT)
    too_long = (lengths > limit) & ~bad
    if too_long.any():
        what = TEXT_NAMES.get(column, f"a {column.replace('_', ' ')}")
        problems.cells(
            part,
            np.flatnonzero(too_long),
            column,
            [f"is {n:,} characters long" for n in lengths[too_long].astype(int)],
            f"{what} of at most {limit:,} characters",
        )
        bad = bad | too_long
    return bad


# --- across files: duplicates, unknown accounts -----------------------------------------------------------------


def _combine(parts: list[_Part], kind: TableKind, problems: _Problems) -> list[tuple[list[str], pd.DataFrame]]:
    """One frame per set of columns to write, with each key once; conflicting duplicates are recorded.

    The same row given twice (say, overlapping monthly exports) is fine. Two files with different columns for the
    same key (usage.csv and support.csv) merge. Two different values for one cell are a conflict.
    """
    keys = KEYS[kind]
    if not parts:
        return []
    frames = []
    for number, part in enumerate(parts):
        frame = part.clean
        frame["_part"], frame["_pos"] = number, np.arange(len(frame))
        keyed = frame[keys].notna().all(axis=1).to_numpy()
        frames.append(frame if keyed.all() else frame[keyed])  # bad keys were reported already
    rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    columns = [column for column in COLUMNS[kind] if column in rows.columns]
    has = np.array([[column in part.clean.columns for column in columns] for part in parts])

    duplicated = rows.duplicated(keys, keep=False).to_numpy()
    if not duplicated.any():
        return _by_columns(rows, has[rows["_part"].to_numpy()], columns)

    twice = rows[duplicated]
    offsets = np.cumsum([0] + [len(part.clean) for part in parts])
    where = offsets[twice["_part"].to_numpy()] + twice["_pos"].to_numpy()
    for i, column in enumerate(columns):
        if column in keys:
            continue
        # A cell reported as bad already is left out, so a typo is not also called a conflict.
        reported = np.concatenate([part.bad.get(column, np.zeros(len(part.clean), bool)) for part in parts])
        _record_conflicts(twice[has[twice["_part"].to_numpy(), i] & ~reported[where]], column, keys, parts, problems)
    merged = twice.groupby(keys, sort=False, dropna=False).first().reset_index()
    for column in merged.columns:
        if not is_numeric_dtype(merged[column].dtype):  # groupby leaves NaN where _python_values expects None
            merged[column] = pd.Series(merged[column].to_numpy(dtype=object, na_value=None), dtype=object)
    present = pd.DataFrame(has[twice["_part"].to_numpy()], index=twice.index)
    present[keys] = twice[keys]
    merged_has = present.groupby(keys, sort=False, dropna=False).max().to_numpy(dtype=bool)
    single = rows[~duplicated]
    return _by_columns(single, has[single["_part"].to_numpy()], columns) + _by_columns(merged, merged_has, columns)


def _by_columns(rows: pd.DataFrame, has: np.ndarray, columns: list[str]) -> list[tuple[list[str], pd.DataFrame]]:
    """Split rows by which columns they carry, so a row never blanks a column its file did not have."""
    if not len(rows):
        return []
    if (has == has[0]).all():  # the usual run: every file has the same columns
        return [([c for c, present in zip(columns, has[0], strict=True) if present], rows)]
    patterns, which = np.unique(has, axis=0, return_inverse=True)
    which = which.reshape(-1)
    groups = []
    for number, pattern in enumerate(patterns):
        wanted = [column for column, present in zip(columns, pattern, strict=True) if present]
        groups.append((wanted, rows[which == number]))
    return groups


def _record_conflicts(
    rows: pd.DataFrame, column: str, keys: list[str], parts: list[_Part], problems: _Problems
) -> None:
    """Rows that give a key a different value in `column` than the key's first row did."""
    if not len(rows):
        return
    first = rows.groupby(keys, sort=False, dropna=False).cumcount().to_numpy() == 0
    reference = rows[first].set_index(keys)[[column, "_part", "_pos"]]
    aligned = reference.reindex(pd.MultiIndex.from_frame(rows[keys]) if len(keys) > 1 else rows[keys[0]])
    mine = rows[column].to_numpy(dtype=object, na_value=None)
    theirs = aligned[column].to_numpy(dtype=object, na_value=None)
    same = (mine == theirs) | (pd.isna(mine) & pd.isna(theirs))
    conflicting = np.flatnonzero(~same)
    if not len(conflicting):
        return
    what = "account" if len(keys) == 1 else "account and date"
    for part_number, part in enumerate(parts):
        mask = rows["_part"].to_numpy()[conflicting] == part_number
        at = conflicting[mask]
        if not len(at):
            continue
        messages = []
        for i in at:
            other = parts[int(aligned["_part"].iloc[i])]
            position = int(aligned["_pos"].iloc[i])
            key = " on ".join(str(rows[k].iloc[i]) for k in keys)
            text = _cell_text(other.raw[column].iloc[position])
            shown = f'"{text}"' if text else "empty"
            messages.append(f"differs from {other.source} row {other.rows[position]} ({shown}) for {key}")
        problems.cells(part, rows["_pos"].to_numpy()[at], column, messages, f"one value per {what}")


def _check_accounts_known(parts: list[_Part], known: set[str], problems: _Problems) -> None:
    for part in parts:
        ids = part.clean["account_id"]
        unknown = ids.notna().to_numpy() & ~ids.isin(known).to_numpy()
        problems.cells(
            part,
            unknown,
            "account_id",
            "is not an account in the store or in an accounts file of this import",
            "an account_id that is imported already, or an accounts file for it in the same run",
        )


# --- writing -----------------------------------------------------------------------------------------------------


def _check_and_write(
    engine: Engine, parts: list[_Part], problems: _Problems, warnings: list[str], bars: _Bars
) -> ImportReport:
    for part in parts:
        _check_part(part, problems)
    account_parts = [part for part in parts if part.kind == "accounts"]
    metric_parts = [part for part in parts if part.kind == "metrics"]
    accounts = _combine(account_parts, "accounts", problems)
    metrics = _combine(metric_parts, "metrics", problems)

    init_db(engine)
    if metric_parts:
        with read_session(engine) as session:
            known = set(session.execute(select(TABLES["accounts"].c.account_id)).scalars())
        for part in account_parts:
            known.update(part.clean["account_id"].dropna())
        _check_accounts_known(metric_parts, known, problems)
    if problems:
        raise problems.failure()

    with write_session(engine) as session, page_cache(session.connection()) as connection:
        warnings.extend(_clear_stale_contacts(connection, accounts))
        account_counts = _upsert(connection, "accounts", accounts, bars)
        copied = bool(metrics) and day_copies.enabled(connection)
        stored_days = set(distinct_values(connection, METRICS.c.as_of)) if copied else set()
        metric_counts = _upsert(connection, "metrics", metrics, bars)
        if copied:
            _copy_days(connection, metrics, stored_days)
    return ImportReport(*account_counts, *metric_counts, warnings=tuple(warnings))


def _copy_days(connection: Connection, groups: list[tuple[list[str], pd.DataFrame]], stored_days: set[date]) -> None:
    """Keep the columnar copy of each day imported (`bot.store.day_copies`): a day new to the store is copied from
    its rows as written here; a day that held rows already, or whose rows came in files of different columns, is
    read back (its rows may be old and new, or partial). So is a stored day without a copy: a store made before
    copies existed gets them all at its next import, once (about half a second a day at 100,000 accounts)."""
    days = [{date.fromisoformat(day) for day in pd.unique(frame["as_of"])} for _, frame in groups]
    once = {day for day in set().union(*days) if sum(day in group for group in days) == 1}
    for (columns, frame), group in zip(groups, days, strict=True):
        if new := sorted(group & once - stored_days):
            day_copies.copy_imported(connection, frame, columns, new)
    uncopied = stored_days - day_copies.days_copied(connection)
    day_copies.copy_stored(connection, sorted(set().union(*days) - (once - stored_days) | uncopied))


_CONTACTS = ("csm_slack_id", "csm_email")


def _clear_stale_contacts(connection: Connection, groups: list[tuple[list[str], pd.DataFrame]]) -> list[str]:
    """An account moving to another CSM without a Slack ID or email for them loses the old CSM's: otherwise the
    new CSM's digests and alerts would go to the old one. Returns the warning that says so (none if nobody moved)."""
    table = TABLES["accounts"]
    if connection.execute(select(table.c.account_id).limit(1)).first() is None:
        return []  # a first import: nobody can have moved
    moved: list[tuple[str, str, str, list[str]]] = []  # (account_id, old owner, new owner, contacts to clear)
    for columns, frame in groups:
        if "csm_owner" not in columns:
            continue
        ids = [str(a) for a in frame["account_id"]]
        stored = {
            row.account_id: row
            for start in range(0, len(ids), 900)
            for row in connection.execute(
                select(table.c.account_id, table.c.csm_owner, *(table.c[c] for c in _CONTACTS)).where(
                    table.c.account_id.in_(ids[start : start + 900])
                )
            )
        }
        blank = np.full(len(frame), None, dtype=object)  # a column the file does not have gives nobody's contact
        given = {c: frame[c].to_numpy(dtype=object) if c in columns else blank for c in _CONTACTS}
        for i, (account_id, owner) in enumerate(zip(ids, frame["csm_owner"], strict=True)):
            before = stored.get(account_id)
            if before is None or owner is None or before.csm_owner == owner:
                continue
            stale = [c for c in _CONTACTS if getattr(before, c) and (given[c][i] is None or pd.isna(given[c][i]))]
            if stale:
                moved.append((account_id, before.csm_owner, str(owner), stale))
    for account_id, _, _, stale in moved:
        connection.execute(table.update().where(table.c.account_id == account_id).values({c: None for c in stale}))
    if not moved:
        return []
    examples = "; ".join(f"{a}: {old} → {new}" for a, old, new, _ in moved[:3])
    more = f" and {len(moved) - 3} more" if len(moved) > 3 else ""
    return [
        f"{len(moved)} account{'s' * (len(moved) != 1)} changed CSM without a csm_slack_id or csm_email for the new "
        f"one ({examples}{more}): the previous CSM's Slack ID and email were cleared, so their digests and alerts "
        "no longer go to the previous CSM. Add csm_slack_id or csm_email to reach the new CSM directly."
    ]


def _upsert(
    connection: Connection, kind: TableKind, groups: list[tuple[list[str], pd.DataFrame]], bars: _Bars
) -> tuple[int, int, int]:
    """Insert new keys, update keys whose values differ, leave the rest; returns (inserted, updated, unchanged)."""
    table = TABLES[kind]
    total = sum(len(frame) for _, frame in groups)
    if not total:
        return 0, 0, 0
    count = select(func.count()).select_from(table)
    before = connection.execute(count).scalar_one()
    # Into an empty SQLite table (a first import) every row is new, each key comes once (see _combine) and the write
    # lock, held since the transaction began, keeps it so: plain inserts, without the conflict check.
    keys = None if before == 0 and connection.dialect.name == "sqlite" else KEYS[kind]
    # Its secondary indexes are then built once the rows are in, in one sorted pass each, rather than entry by
    # entry; in the same transaction, so a failed import leaves them as they were.
    rebuilt = list(table.indexes) if keys is None else []
    for index in rebuilt:
        index.drop(connection)
    task = bars.add(f"Writing {kind}", total) if total >= PROGRESS_MIN_ROWS else None
    # SQLite turns a bound NaN into NULL, which spares converting every number to an object.
    nan_is_null = connection.dialect.name == "sqlite"
    changed = done = 0
    for columns, frame in groups:
        per_statement = max(1, PARAMETERS_PER_STATEMENT // len(columns))
        full = _Statement(connection, table, columns, keys, per_statement)
        for rows, chunks, rest in _batches(frame, columns, per_statement, nan_is_null):
            changed += full.execute(chunks) if chunks else 0
            if rest:
                partial = _Statement(connection, table, columns, keys, len(rest) // len(columns))
                changed += partial.execute([rest])
            done += rows
            bars.update(task, done)
    for index in rebuilt:
        index.create(connection)
    inserted = connection.execute(count).scalar_one() - before
    return inserted, changed - inserted, total - changed


Batch = tuple[int, list[tuple[Any, ...]], tuple[Any, ...]]  # (rows, full statements' cells, the rest's cells)


def _batches(frame: pd.DataFrame, columns: list[str], per_statement: int, nan_is_null: bool) -> Iterator[Batch]:
    """The frame's cells, row after row, cut into one tuple per statement of `per_statement` rows."""
    width = len(columns) * per_statement
    batch_rows = per_statement * max(1, WRITE_BATCH_ROWS // per_statement)
    for start in range(0, len(frame), batch_rows):
        batch = frame.iloc[start : start + batch_rows]
        cells = np.empty((len(batch), len(columns)), dtype=object)
        for i, column in enumerate(columns):
            cells[:, i] = _python_values(batch[column], nan_is_null)
        whole = len(batch) // per_statement * per_statement
        chunks = [tuple(chunk) for chunk in cells[:whole].reshape(-1, width).tolist()]
        yield len(batch), chunks, tuple(cells[whole:].reshape(-1).tolist())


class _Statement:
    """An upsert of `rows` rows at once: several rows per statement cut the per-statement cost that dominates
    executemany on SQLite. Only rows whose values differ are touched, so the row count says how many changed.
    Without `keys`, a plain insert (no row can be there already)."""

    def __init__(
        self, connection: Connection, table: Table, columns: list[str], keys: list[str] | None, rows: int
    ) -> None:
        dialect = connection.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"importing needs SQLite or PostgreSQL, not {dialect}")
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        self.names = [f"{column}_{row}" for row in range(rows) for column in columns]
        values: list[dict[str, Any]] = [
            {column: bindparam(f"{column}_{row}") for column in columns} for row in range(rows)
        ]
        statement = insert(table).values(values)
        updates = [column for column in columns if column not in (keys or ())]
        if keys is not None and updates:
            differs = or_(*(table.c[column].is_distinct_from(statement.excluded[column]) for column in updates))
            statement = statement.on_conflict_do_update(
                index_elements=keys, set_={column: statement.excluded[column] for column in updates}, where=differs
            )
        elif keys is not None:
            statement = statement.on_conflict_do_nothing(index_elements=keys)
        compiled = statement.compile(dialect=connection.dialect)
        self.sql = str(compiled)
        self.positional = compiled.positiontup is not None
        if self.positional and list(compiled.positiontup or ()) != self.names:
            raise AssertionError("the compiled upsert binds its parameters in an unexpected order")
        self.connection = connection

    def execute(self, chunks: list[tuple[Any, ...]]) -> int:
        """Run the statement once per chunk of cells (row after row); return how many rows it changed."""
        params: list[Any] = chunks if self.positional else [dict(zip(self.names, c, strict=True)) for c in chunks]
        return int(self.connection.exec_driver_sql(self.sql, params).rowcount)


def _python_values(series: pd.Series, nan_is_null: bool) -> np.ndarray:
    """Values a DBAPI driver takes, with None (or NaN, where the driver stores it as NULL) for no data.

    Text, date and yes/no columns already hold None for no data (see _check_column and _combine).
    """
    if series.dtype == object:
        return series.to_numpy()
    if nan_is_null and is_numeric_dtype(series.dtype) and not is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    return series.to_numpy(dtype=object, na_value=None)


# --- progress ----------------------------------------------------------------------------------------------------


class _Bars:
    """Progress bars on stderr, or nothing at all when switched off."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    def add(self, description: str, total: int) -> Any:
        return None if self.progress is None else self.progress.add_task(description, total=total)

    def update(self, task: Any, completed: int) -> None:
        if self.progress is not None and task is not None:
            self.progress.update(task, completed=completed)


@contextmanager
def _progress_bars(enabled: bool) -> Iterator[_Bars]:
    if not enabled:
        yield _Bars(None)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        yield _Bars(progress)
