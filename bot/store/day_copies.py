"""Columnar copies of snapshot days, on SQLite: each day's metric rows again, column by column in one blob.

SQLite hands rows over a value at a time, so reading a day of 100,000 snapshots costs about half a second however
few columns are asked for; a daily run reads four days at every start and `score --history` every day. A copy is
the same day as `read_frame(select(METRICS)…)` gives it, kept as arrays: reading it is a memory copy.

The importer writes the copy of each day it imports, in its own transaction (`refresh`). A copy is read only while
its day holds as many rows as it does (counted through the day index, for the accounts read), and the triggers
`init_sqlite` creates drop it when any of its day's rows is changed or deleted, so rows written past the importer
are never hidden behind an old copy: their day is then read row by row, as before copies existed.

Layout of a copy: `data` holds each column's values one after the other, `layout` (JSON) names each column with
its kind ("text", "number", "day"), numpy dtype, offset and length. Account IDs come first, sorted as SQLite sorts
them (by their UTF-8 bytes), so the accounts of a span are a slice. Numbers are float32 where that loses nothing
(counts, day numbers), float64 otherwise; text is UTF-8, one fixed width per column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Date, Float, Integer, Numeric, delete, func, insert, select
from sqlalchemy.engine import Connection

from bot.store.db import read_frame
from bot.store.tables import DAY_COPIES, METRICS

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
)


def refresh(
    connection: Connection, new_days: Iterable[tuple[date, pd.DataFrame]], changed_days: Iterable[date]
) -> None:
    """Store the copies of days an import wrote: `new_days`, which held no rows before it, from their rows as
    imported (in `read_form`, a day at a time); `changed_days` (days that held rows already) read back from the
    store."""
    for day, frame in new_days:
        _store(connection, day, frame)
    for day in changed_days:
        _store(connection, day, read_frame(connection, select(METRICS).where(METRICS.c.as_of == day)))


def read_form(columns: dict[str, Any], rows: int) -> pd.DataFrame:
    """Metric rows as bound for the store (numbers as floats with NaN, dates as ISO text, yes/no as bools, text
    as str, None for no data; a column not given is no data) in the form `read_frame` reads them back: numbers
    and yes/no as float64, dates as datetime64[s], text as str. Columns in the table's order."""
    import numpy as np
    import pandas as pd

    frame: dict[str, Any] = {}
    for column in METRICS.columns:
        values = columns.get(column.name)
        kind = column.type._type_affinity
        if kind is Date:
            given = pd.Series(values if values is not None else [None] * rows, dtype=object)
            frame[column.name] = pd.to_datetime(given, format="%Y-%m-%d").to_numpy().astype("datetime64[s]")
        elif kind is Boolean:
            given = pd.Series(values if values is not None else [None] * rows, dtype=object)
            frame[column.name] = given.map({True: 1.0, False: 0.0}).to_numpy(dtype="float64", na_value=np.nan)
        elif column.name == "account_id" or kind not in _NUMBERS:
            given = pd.Series(values if values is not None else [None] * rows, dtype=object)
            frame[column.name] = given.astype("str")
        else:
            frame[column.name] = (
                np.full(rows, np.nan) if values is None else np.asarray(values, dtype="float64").reshape(rows)
            )
    return pd.DataFrame(frame)


def read(
    connection: Connection,
    days: Iterable[date],
    *,
    columns: list[str] | None = None,
    span: tuple[str, str] | None = None,
) -> tuple[list[pd.DataFrame], list[date]]:
    """The rows of each of `days` (of accounts with IDs in `span`, if given) in `read_frame`'s form, from the
    copies still current: account_id, as_of and `columns` (default every column, in the table's order), rows by
    account. Returns those frames, and the days without a current copy (to be read from the rows)."""
    frames: list[pd.DataFrame] = []
    missing: list[date] = []
    for day in days:
        frame = _read_day(connection, day, columns, span) if enabled(connection) else None
        if frame is None:
            missing.append(day)
        else:
            frames.append(frame)
    return frames, missing


def _read_day(
    connection: Connection, day: date, columns: list[str] | None, span: tuple[str, str] | None
) -> pd.DataFrame | None:
    import numpy as np
    import pandas as pd

    found = connection.execute(select(DAY_COPIES.c.layout, DAY_COPIES.c.data).where(DAY_COPIES.c.as_of == day)).first()
    if found is None:
        return None
    layout = {entry["name"]: entry for entry in json.loads(found.layout)}
    data = found.data
    ids = _array(data, layout["account_id"])
    lo, hi = (0, len(ids)) if span is None else _slice(ids, span)
    counted = select(func.count()).select_from(METRICS).where(METRICS.c.as_of == day)
    if span is not None:
        counted = counted.where(METRICS.c.account_id.between(*span))
    if connection.execute(counted).scalar_one() != hi - lo:
        return None  # rows were added since (or the copy is of other rows): read the day's rows instead
    names = [c.name for c in METRICS.columns if c.name not in ("account_id", "as_of")] if columns is None else columns
    frame: dict[str, Any] = {
        "account_id": _texts(ids[lo:hi]),
        "as_of": np.full(hi - lo, np.datetime64(day, "s")),
    }
    for name in names:
        entry = layout[name]
        values = _array(data, entry)[lo:hi]
        if entry["kind"] == "text":
            frame[name] = _texts(
                values, _array(data, layout[f"{name}:missing"])[lo:hi] if f"{name}:missing" in layout else None
            )
        elif entry["kind"] == "day":
            frame[name] = (values.astype("float64") * 86_400).astype("datetime64[s]")
        else:
            frame[name] = values.astype("float64")
    return pd.DataFrame(frame)


def _texts(encoded: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
    """UTF-8 values as `read_frame` gives text (pandas' str), None where `missing`."""
    import numpy as np
    import pandas as pd

    texts = pd.Series(np.char.decode(encoded, "utf-8"), dtype=object)
    if missing is not None:
        texts[missing] = None
    return texts.astype("str") if len(texts) else texts  # as `read_frame` leaves no rows


def _slice(ids: np.ndarray, span: tuple[str, str]) -> tuple[int, int]:
    """Where the accounts with IDs from `span[0]` to `span[1]` lie among `ids` (sorted as UTF-8 bytes, as SQLite
    compares text)."""
    import numpy as np

    low, high = (np.array([text.encode("utf-8")]) for text in span)
    return int(np.searchsorted(ids, low, "left")[0]), int(np.searchsorted(ids, high, "right")[0])


def _array(data: bytes, entry: dict[str, Any]) -> np.ndarray:
    import numpy as np

    return np.frombuffer(data, dtype=np.dtype(entry["dtype"]), count=entry["rows"], offset=entry["offset"])


def _store(connection: Connection, day: date, frame: pd.DataFrame) -> None:
    """Replace `day`'s copy with `frame` (that day's rows in `read_frame`'s form)."""
    layout, data = _encode(frame)
    connection.execute(delete(DAY_COPIES).where(DAY_COPIES.c.as_of == day))
    connection.execute(insert(DAY_COPIES).values(as_of=day, rows=len(frame), layout=layout, data=data))


def _encode(frame: pd.DataFrame) -> tuple[str, bytes]:
    import numpy as np
    import pandas as pd

    ids = _utf8(frame["account_id"].to_numpy(dtype=object))
    order = np.argsort(ids, kind="stable")
    arrays: list[tuple[str, str, np.ndarray]] = [("account_id", "text", ids[order])]
    for name in frame.columns:
        if name in ("account_id", "as_of"):
            continue
        values = frame[name].to_numpy()[order]
        if values.dtype.kind == "M":
            days = values.astype("datetime64[D]").astype("int64").astype("float64")
            arrays.append((name, "day", _narrow(np.where(np.isnat(values), np.nan, days))))
        elif values.dtype.kind == "f":
            arrays.append((name, "number", _narrow(values)))
        else:
            missing = pd.isna(values)
            arrays.append((name, "text", _utf8(np.where(missing, "", values))))
            if missing.any():
                arrays.append((f"{name}:missing", "missing", missing))
    layout, offset = [], 0
    for name, kind, values in arrays:
        layout.append({"name": name, "kind": kind, "dtype": values.dtype.str, "offset": offset, "rows": len(values)})
        offset += values.nbytes
    return json.dumps(layout), b"".join(values.tobytes() for _, _, values in arrays)


def _narrow(values: np.ndarray) -> np.ndarray:
    """float32 where every value survives the round trip (NaN included), else float64 as given."""
    import numpy as np

    values = values.astype("float64")
    with np.errstate(over="ignore"):
        narrow = values.astype("float32")
    return narrow if np.array_equal(narrow.astype("float64"), values, equal_nan=True) else values


def _utf8(texts: np.ndarray) -> np.ndarray:
    import numpy as np

    encoded = [str(text).encode("utf-8") for text in texts]
    width = max((len(e) for e in encoded), default=1) or 1
    return np.array(encoded, dtype=f"S{width}")


_NUMBERS = (Integer, Float, Numeric)
