"""Engine and sessions. SQLite gets WAL, a busy timeout and write transactions that take the lock up front."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Select,
    Table,
    event,
    func,
    inspect,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, create_engine

if TYPE_CHECKING:
    import pandas as pd

SQLITE_BUSY_TIMEOUT_MS = 30_000
UNIX_EPOCH_JULIAN_DAY = 2440587.5
SQLITE_CACHE_KIB = 64 * 1024
SQLITE_PAGE_BYTES = 16 * 1024
READ_CHUNK_ROWS = 100_000


def normalise_url(url: str) -> str:
    """Accept the URLs people copy from their hosting provider; we ship psycopg 3, not psycopg2."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for `url` (any SQLAlchemy URL); SQLite files are tuned for one writer, many readers."""
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, echo=echo, pool_pre_ping=True)

    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _begin below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Before WAL, so that a new file takes it (an existing one keeps its own): with 16 KiB pages a scoring run's
        # rows go in with about 15% less CPU, and are checkpointed in half the time, than with the default 4 KiB.
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")
        if url not in ("sqlite://", "sqlite:///:memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # In WAL a deferred read-then-write transaction fails at once with "database is locked" when another
        # writer got in between; a write transaction therefore takes the write lock when it starts.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class StoreOutOfDate(RuntimeError):
    """The database was made by an older Healthbot and cannot be brought up to date in place."""


def init_db(engine: Engine) -> None:
    """Create every table that does not exist yet, and bring a store made by an earlier version up to date."""
    from bot.store import tables  # noqa: F401  (registers the tables on SQLModel.metadata)

    SQLModel.metadata.create_all(engine)
    _add_new_columns_and_indexes(engine)
    if engine.dialect.name == "sqlite":
        from bot.store.day_copies import TRIGGERS

        with engine.begin() as conn:
            for trigger in TRIGGERS:
                conn.exec_driver_sql(trigger)


def _add_new_columns_and_indexes(engine: Engine) -> None:
    # create_all() adds missing tables only. Columns and indexes added to existing tables since a store was made
    # are added here, so upgrading never means losing the history a team has built up.
    inspector = inspect(engine)
    missing: list[tuple[Table, Column[Any]]] = []
    superseded: list[str] = []
    for table in SQLModel.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing += [(table, column) for column in table.columns if column.name not in present]
        superseded += [i["name"] for i in inspector.get_indexes(table.name) if i["name"] in SUPERSEDED_INDEXES]
    with engine.begin() as conn:
        for table, column in missing:
            conn.execute(text(_add_column_sql(table, column, engine)))
        for table in SQLModel.metadata.sorted_tables:
            for index in table.indexes:
                index.create(conn, checkfirst=True)
        for name in superseded:
            conn.execute(text(f"DROP INDEX {engine.dialect.identifier_preparer.quote(name)}"))


# Indexes an earlier version made that a wider one now does the work of (each costs every write its upkeep).
SUPERSEDED_INDEXES = ("ix_health_score_as_of", "ix_metric_snapshot_as_of")


def _add_column_sql(table: Table, column: Column[Any], engine: Engine) -> str:
    preparer = engine.dialect.identifier_preparer
    kind = column.type.compile(dialect=engine.dialect)
    sql = f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.format_column(column)} {kind}"
    if column.nullable and not column.primary_key:
        return sql
    default = getattr(column.default, "arg", None) if column.default is not None and column.default.is_scalar else None
    if isinstance(default, bool | int | float | str):
        value = literal(default).compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
        return f"{sql} NOT NULL DEFAULT {value}"
    raise StoreOutOfDate(
        f"the database at {engine.url.render_as_string(hide_password=True)} was made by an older Healthbot and lacks "
        f"{table.name}.{column.name}; export what you need, point DATABASE_URL at a new database and re-import"
    )


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction holds the write lock from its first statement, committed on success."""
    bound = engine.execution_options(sqlite_begin="IMMEDIATE") if engine.dialect.name == "sqlite" else engine
    with Session(bound, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reading; nothing it does is committed."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def page_cache(connection: Connection) -> Iterator[Connection]:
    """On SQLite, a page cache big enough for a table's indexes while many rows go in.

    The default 2 MB cache makes each new row's index entries a cache miss once a table has tens of thousands of
    rows; 64 MB makes 100,000 accounts go in about a third faster.
    """
    if connection.dialect.name != "sqlite":
        yield connection
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        yield connection
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before or -2000)}")


def read_frame(connection: Connection, query: Select[Any]) -> pd.DataFrame:
    """The rows of `query` as a frame, read straight from the driver: no per-value conversion by SQLAlchemy, which
    at a million metric rows costs more than the query. Numbers come as float64 (NULL → NaN), dates and times as
    datetime64, text as text; JSON columns are not read here."""
    kinds = {column.name: getattr(column.type, "_type_affinity", None) for column in query.selected_columns}
    if connection.dialect.name == "sqlite":
        return _read_sqlite(connection, query, kinds)
    import pandas as pd

    cursor = _execute(connection, query)
    try:
        names = [column[0] for column in cursor.description]
        # A chunk of rows at a time: a million rows as Python tuples would take gigabytes at once.
        chunks = []
        while True:
            rows = cursor.fetchmany(READ_CHUNK_ROWS)
            chunks.append(_typed(pd.DataFrame.from_records(rows, columns=names, coerce_float=True), kinds))
            if len(rows) < READ_CHUNK_ROWS:
                break
    finally:
        cursor.close()
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)


def distinct_values(connection: Connection, column: Column[Any], *, above: Any = None, below: Any = None) -> list[Any]:
    """The distinct non-NULL values of an indexed `column` strictly between `above` and `below` (either may be
    None), ascending, found one index probe each (a loose index scan): a few days among a million rows take
    milliseconds where `SELECT DISTINCT` reads every row."""
    values: list[Any] = []
    while True:
        query = select(func.min(column)).where(column.is_not(None))
        if above is not None:
            query = query.where(column > above)
        if below is not None:
            query = query.where(column < below)
        above = connection.execute(query).scalar()
        if above is None:
            return values
        values.append(above)


def _execute(connection: Connection, query: Select[Any]) -> Any:
    """A driver cursor on `query`'s rows."""
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    args: Any = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
    cursor = connection.connection.cursor()
    cursor.execute(str(compiled), args)
    return cursor


# SQLite hands numbers over as floats with NULL as minus infinity (no imported value is infinite), so that numpy
# can take each row straight into a typed record; dates come as day numbers, faster than pandas parses ISO text.
_SQLITE_NULL = "-9e999"
_NUMERIC = (Integer, Float, Numeric, Boolean, Date)


def _read_sqlite(connection: Connection, query: Select[Any], kinds: dict[str, Any]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    def as_read(column: Any) -> Any:
        kind, value = kinds[column.name], column
        if kind is Date:
            value = func.julianday(column) - UNIX_EPOCH_JULIAN_DAY
        if kind in _NUMERIC:
            return func.coalesce(value, literal_column(_SQLITE_NULL)).label(column.name)
        return column

    cursor = _execute(connection, query.with_only_columns(*(as_read(c) for c in query.selected_columns)))
    try:
        record = [(name, "f8" if kind in _NUMERIC else "O") for name, kind in kinds.items()]
        rows = np.fromiter(cursor, dtype=record)
    finally:
        cursor.close()
    frame = {}
    for name, kind in kinds.items():
        values = rows[name]
        if kind in _NUMERIC:
            values = np.where(np.isneginf(values), np.nan, values)
        if kind is Date:
            values = (values * 86_400).astype("datetime64[s]")
        frame[name] = values
    return _typed(pd.DataFrame(frame), {name: kind for name, kind in kinds.items() if kind not in _NUMERIC})


def _typed(frame: pd.DataFrame, kinds: dict[str, Any]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    for name, kind in kinds.items():
        if kind in (Date, DateTime):
            frame[name] = pd.to_datetime(frame[name], format="ISO8601") if len(frame) else frame[name]
        elif kind in (Integer, Float, Numeric) and frame[name].dtype == object:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        elif kind is Boolean:
            frame[name] = frame[name].where(frame[name].notna(), np.nan).astype("float64")
        elif frame[name].dtype == object and len(frame):
            frame[name] = frame[name].astype("str")  # what pandas makes of text read any other way
    return frame


def bulk_insert(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of `frame` (columns named as `table`'s, values as stored: JSON columns already JSON text,
    dates as datetime64 or date objects, NaN for NULL) in one bulk write: executemany on SQLite, COPY on
    PostgreSQL. Returns how many rows were written."""
    if frame.empty:
        return 0
    columns = [table.c[name] for name in frame.columns]
    stored = {column.name: _storable(frame[column.name], column) for column in columns}
    preparer = connection.dialect.identifier_preparer
    names = ", ".join(preparer.format_column(column) for column in columns)
    target = preparer.format_table(table)
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            import io

            import pandas as pd

            buffer = io.StringIO()
            pd.DataFrame(stored).to_csv(buffer, header=False, index=False, na_rep="")
            with cursor.copy(f"COPY {target} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:  # type: ignore[attr-defined]
                copy.write(buffer.getvalue())
        else:
            marks = ", ".join("?" for _ in columns)
            rows: Any = zip(*stored.values(), strict=True)  # sqlite3 takes the rows one at a time from any iterable
            cursor.executemany(f"INSERT INTO {target} ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()
    return len(frame)


def _storable(values: pd.Series, column: Column[Any]) -> list[Any]:
    """One column's values as the driver takes them: dates and times in SQLAlchemy's own text form (so the ORM
    reads them back as it wrote them), None for a missing one; numbers as floats, NaN for a missing one (SQLite
    binds NaN as NULL; the CSV for COPY writes both as empty)."""
    kind = column.type._type_affinity if hasattr(column.type, "_type_affinity") else None
    if kind is DateTime or kind is Date:
        import numpy as np
        import pandas as pd

        stamps = pd.to_datetime(values)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        # A scoring run stores a dozen distinct days and one time: each is written out once, not once per row.
        codes, distinct = pd.factorize(stamps)
        shape = "%Y-%m-%d %H:%M:%S.%f" if kind is DateTime else "%Y-%m-%d"
        texts = np.array([*distinct.strftime(shape), None], dtype=object)
        return texts[codes].tolist()  # code -1 (missing) takes the None at the end
    if values.dtype.kind == "f":
        return values.to_numpy().tolist()
    return values.tolist()
