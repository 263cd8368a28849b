"""Import guards: a value the store cannot hold is named by row and column, text in any common encoding is read
(or refused by name), over-long names and text are refused saying the cap, and a failure while writing the second
table leaves the first as it was — a real database trigger makes it fail, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bot.importer import MAX_INTEGER, ImportFailed, import_files, import_frames
from bot.store import Account, MetricSnapshot, read_session
from tests.bot.test_import import ACCOUNTS, METRICS, counts, failure_of, write

ACME = "account_id,name,csm_owner\nACCT-4521,Acme Corp,Sarah Chen\n"


def only_error(failure: ImportFailed) -> str:
    assert failure.total == 1, failure.format()
    return str(failure.errors[0])


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("active_users", "1e20", "1e+20"),
        ("active_users", "100000000000000000000", "100000000000000000000"),
        ("logins_30d", "2147483648", "2147483648"),
        ("days_overdue", "-3e9", "-3000000000"),
    ],
)
def test_a_whole_number_too_large_to_store_names_its_row_and_column(
    engine: Engine, tmp_path: Path, column: str, value: str, shown: str
) -> None:
    metrics = f"account_id,as_of,{column},nps\nACCT-4521,2026-11-24,12,7\nACCT-4521,2026-11-25,{value},7\n"
    failure = failure_of(engine, [write(tmp_path, "accounts.csv", ACME), write(tmp_path, "metrics.csv", metrics)])
    error = only_error(failure)
    assert error.startswith(f'metrics.csv row 3, column {column}: "{shown}" is too large to store')
    assert f"whole numbers go up to {MAX_INTEGER:,} either side of zero" in error
    assert counts(engine) == (0, 0)


def test_the_largest_whole_number_the_store_holds_is_imported(engine: Engine, tmp_path: Path) -> None:
    metrics = f"account_id,as_of,logins_30d\nACCT-4521,2026-11-24,{MAX_INTEGER}\n"
    import_files(
        engine, [write(tmp_path, "accounts.csv", ACME), write(tmp_path, "metrics.csv", metrics)], progress=False
    )
    with read_session(engine) as session:
        snapshot = session.get(MetricSnapshot, ("ACCT-4521", date(2026, 11, 24)))
    assert snapshot is not None and snapshot.logins_30d == MAX_INTEGER


TEXT = "account_id,name,csm_owner\r\nACCT-7,Café Société,Zoë Müller\r\nACCT-8,Ørsted Øst,José Núñez\r\n"


@pytest.mark.parametrize(
    "encoded",
    [
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with its byte-order mark, as Excel's "Unicode Text" and many exports save it
        b"\xfe\xff" + TEXT.encode("utf-16-be"),
        TEXT.encode("utf-16-le"),  # no mark
        TEXT.encode("utf-16-be"),  # no mark
        TEXT.encode("cp1252"),
    ],
    ids=["utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "utf-16-le", "utf-16-be", "cp1252"],
)
def test_text_in_any_common_encoding_is_read_as_written(engine: Engine, tmp_path: Path, encoded: bytes) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(encoded)
    import_files(engine, [path], progress=False)
    with read_session(engine) as session:
        cafe, orsted = session.get(Account, "ACCT-7"), session.get(Account, "ACCT-8")
    assert cafe is not None and orsted is not None
    assert (cafe.name, cafe.csm_owner, orsted.name, orsted.csm_owner) == (
        "Café Société",
        "Zoë Müller",
        "Ørsted Øst",
        "José Núñez",
    )


@pytest.mark.parametrize(
    ("encoded", "problem"),
    [
        (b"\xff\xfe\x00\x00" + TEXT.encode("utf-32-le"), "accounts.csv: is UTF-32 text, which is not supported"),
        (b"PK\x03\x04\x00\x00\x01\x00binary", "accounts.csv: is not a text file (it holds NUL bytes)"),
    ],
)
def test_a_file_that_is_not_text_we_read_is_refused_by_name(
    engine: Engine, tmp_path: Path, encoded: bytes, problem: str
) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(encoded)
    error = only_error(failure_of(engine, [path]))
    assert error.startswith(problem) and "UTF-8" in error
    assert counts(engine) == (0, 0)


@pytest.mark.parametrize(
    ("column", "length", "cap", "what"),
    [
        ("name", 5_000, 200, "an account name"),
        ("csm_owner", 101, 100, "a CSM name"),
        ("segment", 150, 100, "a segment"),
    ],
)
def test_over_long_text_is_refused_saying_the_cap(
    engine: Engine, tmp_path: Path, column: str, length: int, cap: int, what: str
) -> None:
    values = {"account_id": "ACCT-1", "name": "Acme Corp", "csm_owner": "Sarah Chen", "segment": "SMB"}
    values[column] = "N" * length
    accounts = ",".join(values) + "\n" + ",".join(values.values()) + "\n" + ACME.splitlines()[1] + "\n"
    error = only_error(failure_of(engine, [write(tmp_path, "accounts.csv", accounts)]))
    assert error.startswith(f'accounts.csv row 2, column {column}: "NNNN')
    assert f"is {length:,} characters long; expected {what} of at most {cap} characters" in error
    assert len(error) < 300, "the long value is quoted in part, not in full"
    assert counts(engine) == (0, 0)


def test_text_the_store_cannot_hold_names_its_row_and_column(engine: Engine) -> None:
    accounts = pd.DataFrame(
        {"account_id": ["ACCT-1", "ACCT-2"], "name": ["Acme Corp", "Mega\x00Corp"], "csm_owner": ["Sarah", "Sarah"]}
    )
    with pytest.raises(ImportFailed) as caught:
        import_frames(engine, accounts=accounts)
    assert str(caught.value.errors[0]).startswith('data accounts row 3, column name: "Mega\x00Corp" contains a NUL')
    assert caught.value.total == 1 and counts(engine) == (0, 0)


def test_text_at_the_cap_is_imported(engine: Engine, tmp_path: Path) -> None:
    accounts = f"account_id,name,csm_owner\nACCT-1,{'N' * 200},Sarah Chen\n"
    import_files(engine, [write(tmp_path, "accounts.csv", accounts)], progress=False)
    assert counts(engine) == (1, 0)


# --- all or nothing, at the database -------------------------------------------------------------------------------


def fail_inserts_into_metric_snapshot(engine: Engine) -> None:
    """A trigger that makes the database refuse every new metric row, as a full disk or a lost connection would."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_metrics BEFORE INSERT ON metric_snapshot "
                    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_metrics() RETURNS trigger AS $$ "
                    "BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_metrics BEFORE INSERT ON metric_snapshot "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_metrics()"
                )
            )


def test_a_failure_writing_the_second_table_leaves_the_first_as_it_was(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, [write(tmp_path, "before.csv", ACME)], progress=False)  # Acme Corp, as stored before
    fail_inserts_into_metric_snapshot(engine)
    renamed = ACCOUNTS.replace("Acme Corp,Sarah Chen", "Acme Corporation,Mike Ross")
    with pytest.raises(Exception, match="injected failure"):
        import_files(
            engine, [write(tmp_path, "accounts.csv", renamed), write(tmp_path, "metrics.csv", METRICS)], progress=False
        )
    assert counts(engine) == (1, 0), "MegaCorp, new in the failed run, was not kept"
    with read_session(engine) as session:
        acme = session.get(Account, "ACCT-4521")
    assert acme is not None and (acme.name, acme.csm_owner, acme.segment) == ("Acme Corp", "Sarah Chen", None)


def index_names(engine: Engine, table: str) -> set[str | None]:
    return {index["name"] for index in inspect(engine).get_indexes(table)}


def test_a_first_import_builds_the_indexes_after_its_rows_and_a_failed_one_keeps_them(
    engine: Engine, tmp_path: Path
) -> None:
    declared = {index.name for index in MetricSnapshot.__table__.indexes} | {  # type: ignore[attr-defined]
        index.name
        for index in Account.__table__.indexes  # type: ignore[attr-defined]
    }
    before = index_names(engine, "metric_snapshot") | index_names(engine, "account")
    assert "ix_metric_snapshot_day_account" in before and declared <= before
    fail_inserts_into_metric_snapshot(engine)
    files = [write(tmp_path, "accounts.csv", ACCOUNTS), write(tmp_path, "metrics.csv", METRICS)]
    with pytest.raises(Exception, match="injected failure"):
        import_files(engine, files, progress=False)  # into empty tables: the bulk-load path
    assert counts(engine) == (0, 0)
    assert index_names(engine, "metric_snapshot") | index_names(engine, "account") == before

    with engine.begin() as connection:
        connection.execute(
            text("DROP TRIGGER refuse_metrics" + ("" if engine.dialect.name == "sqlite" else " ON metric_snapshot"))
        )
    import_files(engine, files, progress=False)
    assert counts(engine)[0] > 0 and counts(engine)[1] > 0
    assert index_names(engine, "metric_snapshot") | index_names(engine, "account") == before
    if engine.dialect.name == "sqlite":  # the snapshot days are found through the day index
        query = "EXPLAIN QUERY PLAN SELECT min(as_of) FROM metric_snapshot WHERE as_of > '2026-01-01'"
        with engine.connect() as connection:
            plan = connection.execute(text(query)).all()
        assert any("ix_metric_snapshot_day_account" in str(row[-1]) for row in plan)
