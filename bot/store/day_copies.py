"""Columnar copies of snapshot days, on SQLite: each day's metric rows again, one blob per column.

SQLite hands rows over a value at a time, so reading a day of 100,000 snapshots costs about half a second however
few columns are asked for; a daily run reads four days at every start and `score --history` every day. A copy is
the same day as `read_frame(select(METRICS)…)` gives it, kept as arrays: reading it is a memory copy.

The importer writes the copy of each day it imports, in the import's transaction (`copy_imported`, `copy_stored`);
a scoring run writes the copy of each day's scores it stored (`copy_scores`). A copy is read only while its day holds
as many rows as it does (counted through the day index, for the accounts read), and the triggers `init_db` creates
drop it when any of its day's rows is changed or deleted, so rows written past the importer or the scoring run are
never hidden behind an old copy: their day is then read row by row, as before copies existed.

Each column of a day is a row of `metric_day_copy`: its values as one numpy array (`dtype`), the accounts in the
order SQLite sorts their IDs (by UTF-8 bytes), so the accounts of a span are a slice. Numbers are float32 where that
loses nothing (counts, day numbers), float64 otherwise; dates are day numbers; text is UTF-8 of one fixed width,
with a `<column>:missing` row marking the empty cells where there are any.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Date, Float, Integer, Numeric, delete, func, insert, select
from sqlalchemy.engine import Connection

from bot.store.db import read_frame
from bot.store.tables import DAY_COPIES, METRICS, SCORE_COPIES, SCORES

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def enabled(connection: Connection) -> bool:
    """Whether this store keeps day copies (SQLite; PostgreSQL reads its rows in bulk already)."""
    return connection.dialect.name == "sqlite"


# Any change to a day's rows made past the importer drops that day's copy; an insert changes the day's row count,
# which every read checks. Created with the tables (`init_db`).
TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS metric_day_copy_on_update AFTER UPDATE ON metric_snapshot BEGIN "
    "DELETE FROM metric_day_copy WHERE as_of IN (OLD.as_of, NEW.as_of); END",
    "CREATE TRIGGER IF NOT EXISTS metric_day_copy_on_delete AFTER DELETE ON metric_snapshot BEGIN "
    "DELETE FROM metric_day_copy WHERE as_of = OLD.as_of; END",
    "CREATE TRIGGER IF NOT EXISTS score_day_copy_on_update AFTER UPDATE ON health_score BEGIN "
    "DELETE FROM score_day_copy WHERE as_of IN (OLD.as_of, NEW.as_of); END",
    # A scoring run drops the copies of the days it replaces before deleting their rows, so that this trigger's
    # condition (one probe) spares it a million deletes.
    "CREATE TRIGGER IF NOT EXISTS score_day_copy_on_delete AFTER DELETE ON health_score "
    "WHEN EXISTS (SELECT 1 FROM score_day_copy WHERE as_of = OLD.as_of) BEGIN "
    "DELETE FROM score_day_copy WHERE as_of = OLD.as_of; END",
)
_VALUES = [c.name for c in METRICS.columns if c.name not in ("account_id", "as_of")]


def copy_imported(connection: Connection, imported: pd.DataFrame, columns: list[str], days: Iterable[date]) -> None:
    """Store the copies of `days`, days new to the store, from the rows an import wrote for them: `imported`, in
    `columns` (as bound for the store: numbers as floats with NaN, dates as ISO text, yes/no as bools, text as str,
    None for no data; a column not among them is no data). Built a column at a time over every day at once."""
    import numpy as np
    import pandas as pd

    codes, distinct = pd.factorize(imported["as_of"].to_numpy(dtype=object))
    wanted = {day.isoformat() for day in days}
    rows = {
        date.fromisoformat(day): np.flatnonzero(codes == code) for code, day in enumerate(distinct) if day in wanted
    }
    _copy(connection, imported, columns, rows)


def days_copied(connection: Connection) -> set[date]:
    """The days that have a copy (current or not)."""
    column = DAY_COPIES.c.as_of
    return set(connection.execute(select(column).where(DAY_COPIES.c.column == "account_id")).scalars())


def copy_stored(connection: Connection, days: Iterable[date]) -> None:
    """Store the copies of `days` as the store holds them (read back)."""
    import numpy as np

    for day in days:
        frame = read_frame(connection, select(METRICS).where(METRICS.c.as_of == day))
        _copy(connection, frame, list(frame.columns), {day: np.arange(len(frame))})


def _copy(connection: Connection, frame: pd.DataFrame, columns: list[str], rows: dict[date, np.ndarray]) -> None:
    """Replace the copy of each day of `rows` (its rows' positions in `frame`, whose `columns` hold values as bound
    or as read back; any other column is no data), a column at a time over every day at once."""
    import numpy as np
    import pandas as pd

    ids = _utf8(frame["account_id"].to_numpy(dtype=object))
    rows = {day: at[np.argsort(ids[at], kind="stable")] for day, at in rows.items()}  # by account, as SQLite sorts
    for day in rows:
        _replace(connection, day)
    _write(connection, "account_id", {day: ids[at] for day, at in rows.items()})
    for name in _VALUES:
        given = frame[name] if name in columns else pd.Series([None] * len(frame), dtype=object)
        for suffix, values in _encoded(given, name).items():
            _write(connection, name + suffix, {day: values[at] for day, at in rows.items()})


def read(
    connection: Connection,
    days: Iterable[date],
    *,
    columns: list[str] | None = None,
    span: tuple[str, str] | None = None,
    by_account: bool = False,
) -> tuple[list[pd.DataFrame], list[date]]:
    """The rows of `days` (of accounts with IDs in `span`, if given) in `read_frame`'s form, from the copies still
    current: account_id, as_of and `columns` (default every column, in the table's order). Returns one frame a day,
    its rows by account, or with `by_account` one frame of every day, its rows by account and then day (`days`
    ascending); and the days without a current copy, to be read from the rows."""
    names = _VALUES if columns is None else columns
    found: list[tuple[date, dict[str, np.ndarray]]] = []
    missing: list[date] = []
    for day in days:
        stored = _stored_day(connection, day, names, span) if enabled(connection) else None
        if stored is None:
            missing.append(day)
        else:
            found.append((day, stored))
    if not found:
        return [], missing
    if by_account:
        return [_frame(names, found, by_account=True)], missing
    return [_frame(names, [one], by_account=False) for one in found], missing


def _stored_day(
    connection: Connection, day: date, names: list[str], span: tuple[str, str] | None
) -> dict[str, np.ndarray] | None:
    """`names` (and account_id, and where text cells are missing) of `day`'s copy, for the accounts of `span`;
    None unless the copy holds each and the day still has as many rows for those accounts."""
    import numpy as np

    wanted = ["account_id", *names, *(f"{name}:missing" for name in names)]
    stored = {
        found.column: np.frombuffer(found.data, dtype=np.dtype(found.dtype), count=found.rows)
        for found in connection.execute(
            select(DAY_COPIES.c.column, DAY_COPIES.c.dtype, DAY_COPIES.c.rows, DAY_COPIES.c.data).where(
                DAY_COPIES.c.as_of == day, DAY_COPIES.c.column.in_(wanted)
            )
        )
    }
    if "account_id" not in stored or any(name not in stored for name in names):
        return None
    lo, hi = (0, len(stored["account_id"])) if span is None else _slice(stored["account_id"], span)
    counted = select(func.count()).select_from(METRICS).where(METRICS.c.as_of == day)
    if span is not None:
        counted = counted.where(METRICS.c.account_id.between(*span))
    if connection.execute(counted).scalar_one() != hi - lo:
        return None  # rows were added since: the day is read from its rows
    return {column: values[lo:hi] for column, values in stored.items()}


def _frame(names: list[str], found: list[tuple[date, dict[str, np.ndarray]]], *, by_account: bool) -> pd.DataFrame:
    """The days' stored arrays as one frame in `read_frame`'s form, each column concatenated and converted once."""
    import numpy as np
    import pandas as pd

    ids = np.concatenate([stored["account_id"] for _, stored in found])
    # Each day's accounts are sorted already: a stable sort keeps each account's days in order.
    order = np.argsort(ids, kind="stable") if by_account and len(found) > 1 else np.arange(len(ids))
    days = [np.full(len(stored["account_id"]), np.datetime64(day, "s")) for day, stored in found]
    frame: dict[str, Any] = {"account_id": _texts(ids[order]), "as_of": np.concatenate(days)[order]}
    for name in names:
        values = np.concatenate([stored[name] for _, stored in found])[order]
        if values.dtype.kind == "S":
            masks = [stored.get(f"{name}:missing") for _, stored in found]
            blanks = [np.zeros(len(stored[name]), dtype=bool) for _, stored in found]
            missing = (
                None
                if all(m is None for m in masks)
                else np.concatenate(
                    [blank if mask is None else mask for mask, blank in zip(masks, blanks, strict=True)]
                )[order]
            )
            frame[name] = _texts(values, missing)
        elif METRICS.c[name].type._type_affinity is Date:
            frame[name] = (values.astype("float64") * 86_400).astype("datetime64[s]")
        else:
            frame[name] = values.astype("float64")
    return pd.DataFrame(frame)


def accounts_on(connection: Connection, day: date, ids: pd.Series, *, span: tuple[str, str]) -> np.ndarray | None:
    """Which of `ids` (accounts of `span`) have a snapshot on `day`, from its copy; None without a current one."""
    import numpy as np

    stored = _stored_day(connection, day, [], span) if enabled(connection) else None
    if stored is None:
        return None
    return ~np.isnan(lookup(stored["account_id"], np.zeros(len(stored["account_id"])), ids.to_numpy(dtype=object)))


def drop_scores(connection: Connection, days: Iterable[date]) -> None:
    """Drop the score copies of `days` (their scores are about to be replaced)."""
    if enabled(connection):
        connection.execute(delete(SCORE_COPIES).where(SCORE_COPIES.c.as_of.in_(list(days))))


def copy_scores(connection: Connection, day: date, model_hash: str, ids: np.ndarray, scores: np.ndarray) -> None:
    """Store `day`'s copy of the scores `model_hash` gave accounts `ids` (every one stored that day)."""
    import numpy as np

    if not enabled(connection):
        return
    encoded = _utf8(ids)
    order = np.argsort(encoded, kind="stable")
    row = {"as_of": day, "model_hash": model_hash, "rows": len(ids), "ids_dtype": encoded.dtype.str}
    data = {"ids": encoded[order].tobytes(), "scores": np.asarray(scores, dtype="float64")[order].tobytes()}
    connection.execute(delete(SCORE_COPIES).where(SCORE_COPIES.c.as_of == day, SCORE_COPIES.c.model_hash == model_hash))
    connection.execute(insert(SCORE_COPIES).values(**row, **data))


def stored_scores(
    connection: Connection, days: Iterable[date], model_hash: str, *, span: tuple[str, str]
) -> dict[date, tuple[np.ndarray, np.ndarray]] | None:
    """Each of `days`'s scores by `model_hash` for the accounts of `span`, from the copies: (IDs as UTF-8, sorted;
    scores). None when a day has no current copy (its scores are then read from the rows)."""
    import numpy as np

    if not enabled(connection):
        return None
    found: dict[date, tuple[np.ndarray, np.ndarray]] = {}
    for day in days:
        copy = connection.execute(
            select(SCORE_COPIES).where(SCORE_COPIES.c.as_of == day, SCORE_COPIES.c.model_hash == model_hash)
        ).first()
        if copy is None:
            return None
        ids = np.frombuffer(copy.ids, dtype=np.dtype(copy.ids_dtype), count=copy.rows)
        lo, hi = _slice(ids, span)
        # The run that made the copy stored every row of its day, so the day holds as many rows as the copy.
        counted = select(func.count()).select_from(SCORES).where(SCORES.c.as_of == day)
        if connection.execute(counted.where(SCORES.c.account_id.between(*span))).scalar_one() != hi - lo:
            return None  # scores were added or deleted since: the day's are read from its rows
        found[day] = ids[lo:hi], np.frombuffer(copy.scores, dtype="float64", count=copy.rows)[lo:hi]
    return found


def lookup(ids: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The value of each of `wanted` (account IDs) among `ids` (UTF-8, sorted) and `values`; NaN where absent."""
    import numpy as np

    encoded = _utf8(wanted)
    if not len(ids):
        return np.full(len(wanted), np.nan)
    at = np.minimum(np.searchsorted(ids, encoded), len(ids) - 1)
    return np.where(ids[at] == encoded, values[at], np.nan)


def _encoded(values: pd.Series, name: str) -> dict[str, np.ndarray]:
    """A column's values as stored in a copy (as bound for the store, or as read back): {"": the values} and, for
    text with empty cells, {":missing": where}."""
    import numpy as np
    import pandas as pd

    kind = METRICS.c[name].type._type_affinity
    if kind is Date:
        if values.dtype.kind != "M":  # ISO text: a few hundred distinct days, each parsed once
            codes, distinct = pd.factorize(values.to_numpy(dtype=object))
            parsed = pd.to_datetime(pd.Series(distinct, dtype=object), format="%Y-%m-%d").to_numpy()
            values = pd.Series(np.append(parsed.astype("datetime64[s]"), np.datetime64("NaT", "s"))[codes])
        stamps = values.to_numpy().astype("datetime64[D]")
        days = np.where(np.isnat(stamps), np.nan, stamps.astype("int64").astype("float64"))
        return {"": _narrow(days)}
    if kind is Boolean and values.dtype == object:
        return {"": _narrow(values.map({True: 1.0, False: 0.0}).to_numpy(dtype="float64", na_value=np.nan))}
    if _is_text(name):
        missing = pd.isna(values).to_numpy()
        codes, distinct = pd.factorize(values.to_numpy(dtype=object))  # missing: code -1, the appended ""
        texts = np.append(_utf8(np.asarray(distinct, dtype=object)), np.array([b""]))
        return {"": texts[codes], **({":missing": missing} if missing.any() else {})}
    return {"": _narrow(values.to_numpy(dtype="float64", na_value=np.nan))}


def _is_text(name: str) -> bool:
    return METRICS.c[name].type._type_affinity not in (Integer, Float, Numeric, Boolean, Date)


def _texts(encoded: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
    """UTF-8 values as `read_frame` gives text (pandas' str), None where `missing`."""
    import pandas as pd

    texts = pd.Series(_decoded(encoded), dtype=object)
    if missing is not None:
        texts[missing] = None
    return texts.astype("str") if len(texts) else texts  # as `read_frame` leaves no rows


def _slice(ids: np.ndarray, span: tuple[str, str]) -> tuple[int, int]:
    """Where the accounts with IDs from `span[0]` to `span[1]` lie among `ids` (sorted as UTF-8 bytes, as SQLite
    compares text)."""
    import numpy as np

    low, high = (np.array([text.encode("utf-8")]) for text in span)
    return int(np.searchsorted(ids, low, "left")[0]), int(np.searchsorted(ids, high, "right")[0])


def _replace(connection: Connection, day: date) -> None:
    connection.execute(delete(DAY_COPIES).where(DAY_COPIES.c.as_of == day))


def _write(connection: Connection, column: str, values: dict[date, np.ndarray]) -> None:
    """One column's copy on each day of `values`."""
    rows = [
        {"as_of": day, "column": column, "rows": len(v), "dtype": v.dtype.str, "data": v.tobytes()}
        for day, v in values.items()
    ]
    if rows:
        connection.execute(insert(DAY_COPIES), rows)


def _narrow(values: np.ndarray) -> np.ndarray:
    """float32 where every value survives the round trip (NaN included), else float64 as given."""
    import numpy as np

    with np.errstate(over="ignore"):
        narrow = values.astype("float32")
    return narrow if np.array_equal(narrow.astype("float64"), values, equal_nan=True) else values


def _utf8(texts: np.ndarray) -> np.ndarray:
    """Texts as UTF-8 of one width, each distinct text encoded once (an account's ID recurs on every day)."""
    import numpy as np
    import pandas as pd

    codes, distinct = pd.factorize(texts)
    try:
        encoded = np.asarray(distinct, dtype=str).astype("S")  # ASCII, the usual IDs: encoded in one C loop
    except UnicodeEncodeError:
        each = [str(text).encode("utf-8") for text in distinct]
        encoded = np.array(each, dtype=f"S{max([1, *(len(e) for e in each)])}")
    return encoded[codes]


def _decoded(encoded: np.ndarray) -> np.ndarray:
    import numpy as np

    if encoded.dtype.itemsize and (encoded.view(np.uint8) < 0x80).all():
        return encoded.astype(str)
    return np.char.decode(encoded, "utf-8")
