"""`healthbot import`: every bad row named by file, row and column; all or nothing; re-imports change nothing."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.cli import app
from bot.importer import ImportFailed, ImportReport, RowError, import_files, import_frames
from bot.store import Account, MetricSnapshot, create_db_engine, init_db, read_session

ACCOUNTS = """account_id,name,csm_owner,segment,region,arr,renewal_date,tags
ACCT-4521,Acme Corp,Sarah Chen,Mid-Market,North America,45000,2027-03-31,champion_left;case_study
ACCT-4324,MegaCorp,Sarah Chen,Mid-Market,EMEA,82000,2027-01-08,
"""
METRICS = """account_id,as_of,active_users,seats_purchased,nps,csat,training_completion,exec_sponsor_engaged,plan_change
ACCT-4521,2026-10-24,13,25,7,3.4,0.58,true,
ACCT-4521,2026-11-24,12,25,6,3.2,0.6,true,
ACCT-4324,2026-11-24,30,60,3,2.5,0.3,false,downgrade
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def counts(engine: Engine) -> tuple[int, int]:
    with read_session(engine) as session:
        accounts = session.execute(select(func.count()).select_from(Account)).scalar_one()
        metrics = session.execute(select(func.count()).select_from(MetricSnapshot)).scalar_one()
    return accounts, metrics


def failure_of(engine: Engine, paths: list[Path]) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught:
        import_files(engine, paths, progress=False)
    return caught.value


def test_accounts_and_metrics_land_in_the_store(engine: Engine, tmp_path: Path) -> None:
    report = import_files(engine, [write(tmp_path, "accounts.csv", ACCOUNTS), write(tmp_path, "metrics.csv", METRICS)])

    assert report == ImportReport(accounts_inserted=2, metrics_inserted=3)
    with read_session(engine) as session:
        acme = session.get(Account, "ACCT-4521")
        latest = session.get(MetricSnapshot, ("ACCT-4521", date(2026, 11, 24)))
        mega = session.get(MetricSnapshot, ("ACCT-4324", date(2026, 11, 24)))
    assert acme is not None and latest is not None and mega is not None
    assert (acme.name, acme.csm_owner, acme.arr, acme.renewal_date) == (
        "Acme Corp",
        "Sarah Chen",
        45_000,
        date(2027, 3, 31),
    )
    assert acme.tags == "champion_left;case_study"
    assert (latest.active_users, latest.seats_purchased, latest.nps, latest.csat) == (12, 25, 6, 3.2)
    assert latest.exec_sponsor_engaged is True and latest.plan_change is None
    assert mega.exec_sponsor_engaged is False and mega.plan_change == "downgrade"


def test_an_empty_cell_is_no_data_not_zero(engine: Engine, tmp_path: Path) -> None:
    metrics = "account_id,as_of,active_users,nps,last_login\nACCT-4521,2026-11-24,,,\n"
    import_files(engine, [write(tmp_path, "accounts.csv", ACCOUNTS), write(tmp_path, "metrics.csv", metrics)])

    with read_session(engine) as session:
        row = session.get(MetricSnapshot, ("ACCT-4521", date(2026, 11, 24)))
        mega = session.get(Account, "ACCT-4324")
    assert row is not None and mega is not None
    assert (row.active_users, row.nps, row.last_login) == (None, None, None)
    assert mega.tags is None


# One case per kind of mistake: the file's text, and the line the report must contain (file, row, column, value).
BAD_FILES = {
    "missing required column": (
        "metrics.csv",
        "account_id,active_users\nACCT-4521,12\n",
        "metrics.csv row 1, column as_of is missing; expected a metrics file to have the columns account_id, as_of",
    ),
    "empty required value": (
        "accounts.csv",
        "account_id,name,csm_owner\nACCT-1,Acme Corp,Sarah Chen\nACCT-2,,Sarah Chen\n",
        "accounts.csv row 3, column name is empty; expected the account's name in every row",
    ),
    "not a number": (
        "metrics.csv",
        "account_id,as_of,nps\n"
        + "".join(f"ACCT-4521,2026-{month:02d}-01,8\n" for month in range(1, 13))
        + "ACCT-4521,2027-01-01,eleven\n",
        'metrics.csv row 14, column nps: "eleven" is not a number; expected 0–10',
    ),
    "not a whole number": (
        "metrics.csv",
        "account_id,as_of,active_users\nACCT-4521,2026-11-24,12.5\n",
        'metrics.csv row 2, column active_users: "12.5" is not a whole number; expected a whole number 0 or more',
    ),
    "out of range": (
        "metrics.csv",
        "account_id,as_of,csat\nACCT-4521,2026-11-24,6\n",
        'metrics.csv row 2, column csat: "6" is out of range; expected 1–5',
    ),
    "share out of range": (
        "metrics.csv",
        "account_id,as_of,training_completion\nACCT-4521,2026-11-24,60\n",
        'metrics.csv row 2, column training_completion: "60" is out of range; expected 0–1 (a share; a percentage such',
    ),
    "negative": (
        "metrics.csv",
        "account_id,as_of,tickets_30d\nACCT-4521,2026-11-24,-2\n",
        'metrics.csv row 2, column tickets_30d: "-2" is negative; expected a whole number 0 or more',
    ),
    "bad date": (
        "metrics.csv",
        "account_id,as_of\nACCT-4521,11/24/2026\n",
        'metrics.csv row 2, column as_of: "11/24/2026" is not a date; expected a date as YYYY-MM-DD',
    ),
    "impossible date": (
        "accounts.csv",
        "account_id,name,csm_owner,renewal_date\nACCT-1,Acme Corp,Sarah Chen,2027-02-30\n",
        'accounts.csv row 2, column renewal_date: "2027-02-30" is not a date',
    ),
    "bad boolean": (
        "metrics.csv",
        "account_id,as_of,exec_sponsor_engaged\nACCT-4521,2026-11-24,maybe\n",
        'metrics.csv row 2, column exec_sponsor_engaged: "maybe" is not a yes/no value; expected true/false, yes/no',
    ),
    "bad plan change": (
        "metrics.csv",
        "account_id,as_of,plan_change\nACCT-4521,2026-11-24,upsell\n",
        'metrics.csv row 2, column plan_change: "upsell" is not a plan change; expected upgrade or downgrade, or empty',
    ),
    "unknown account": (
        "metrics.csv",
        "account_id,as_of,nps\nACCT-9999,2026-11-24,8\n",
        'metrics.csv row 2, column account_id: "ACCT-9999" is not an account in the store or in an accounts file',
    ),
    "conflicting duplicate": (
        "metrics.csv",
        "account_id,as_of,nps\nACCT-4521,2026-11-24,8\nACCT-4521,2026-11-24,6\n",
        'metrics.csv row 3, column nps: "6" differs from metrics.csv row 2 ("8") for ACCT-4521 on 2026-11-24; expected',
    ),
    "account ID too long": (
        "accounts.csv",
        "account_id,name,csm_owner\n" + "A" * 70 + ",Acme Corp,Sarah Chen\n",
        'accounts.csv row 2, column account_id: "' + "A" * 70 + '" is 70 characters long; expected an account ID of '
        "at most 64 characters",
    ),
    "no known columns": (
        "notes.csv",
        "customer,comment\nAcme,call back\n",
        "notes.csv: has none of the columns that make an accounts or a metrics file; expected an accounts file with",
    ),
    "empty file": ("metrics.csv", "", "metrics.csv: is empty; expected a header row"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_each_kind_of_mistake_is_named_by_file_row_and_column(kind: str, sqlite_url: str, tmp_path: Path) -> None:
    engine = create_db_engine(sqlite_url)
    init_db(engine)
    import_files(engine, [write(tmp_path, "known.csv", "account_id,name,csm_owner\nACCT-4521,Acme Corp,Sarah Chen\n")])
    name, text, expected = BAD_FILES[kind]

    failure = failure_of(engine, [write(tmp_path, name, text)])

    assert any(expected in str(error) for error in failure.errors), failure.format()
    assert expected in failure.format()
    assert counts(engine) == (1, 0)


def test_a_missing_file_is_reported_with_the_others(engine: Engine, tmp_path: Path) -> None:
    failure = failure_of(engine, [write(tmp_path, "accounts.csv", ACCOUNTS), tmp_path / "metrcs.csv"])

    assert [error.file for error in failure.errors] == ["metrcs.csv"]
    assert "does not exist" in str(failure.errors[0])
    assert counts(engine) == (0, 0)


def test_every_bad_row_is_reported_not_only_the_first(engine: Engine, tmp_path: Path) -> None:
    metrics = "account_id,as_of,nps,csat\nACCT-4521,2026-09-24,eleven,4\nACCT-4521,2026-10-24,8,9\nACCT-4521,x,8,4\n"
    failure = failure_of(engine, [write(tmp_path, "accounts.csv", ACCOUNTS), write(tmp_path, "metrics.csv", metrics)])

    assert [(error.row, error.column) for error in failure.errors] == [(2, "nps"), (3, "csat"), (4, "as_of")]
    assert failure.total == 3


def test_a_long_list_of_problems_is_capped_with_a_count(engine: Engine, tmp_path: Path) -> None:
    metrics = "account_id,as_of,nps\n" + "".join(f"ACCT-4521,2026-11-{day:02d},high\n" for day in range(1, 29)) * 3
    failure = failure_of(engine, [write(tmp_path, "accounts.csv", ACCOUNTS), write(tmp_path, "metrics.csv", metrics)])

    report = failure.format(limit=50)
    assert failure.total == 84
    assert report.splitlines()[0] == "Nothing was imported: 84 problems in 1 file. Fix them and run the import again."
    assert len(report.splitlines()) == 1 + 50 + 1
    assert report.endswith("… and 34 more")


def test_one_bad_row_writes_nothing_even_beside_a_good_file(engine: Engine, tmp_path: Path) -> None:
    good = write(tmp_path, "accounts.csv", ACCOUNTS)
    bad = write(tmp_path, "metrics.csv", METRICS.replace("0.3,false", "0.3,perhaps"))

    failure = failure_of(engine, [good, bad])

    assert [(error.file, error.row, error.column) for error in failure.errors] == [
        ("metrics.csv", 4, "exec_sponsor_engaged")
    ]
    assert counts(engine) == (0, 0)


def test_a_failed_run_leaves_what_was_stored_untouched(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, [write(tmp_path, "accounts.csv", ACCOUNTS), write(tmp_path, "metrics.csv", METRICS)])
    changed = ACCOUNTS.replace("45000", "50000") + "ACCT-1,Newco,Sarah Chen,SMB,EMEA,lots,,\n"

    failure_of(engine, [write(tmp_path, "accounts.csv", changed)])

    with read_session(engine) as session:
        acme = session.get(Account, "ACCT-4521")
    assert acme is not None and acme.arr == 45_000
    assert counts(engine) == (2, 3)


def test_reimporting_the_same_rows_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    files = [write(tmp_path, "accounts.csv", ACCOUNTS), write(tmp_path, "metrics.csv", METRICS)]
    import_files(engine, files)
    with read_session(engine) as session:
        before = [row.model_dump() for row in session.execute(select(MetricSnapshot)).scalars()]

    again = import_files(engine, files)

    assert again == ImportReport(accounts_unchanged=2, metrics_unchanged=3)
    with read_session(engine) as session:
        after = [row.model_dump() for row in session.execute(select(MetricSnapshot)).scalars()]
    assert sorted(after, key=str) == sorted(before, key=str)
    assert counts(engine) == (2, 3)


def test_changed_rows_are_updated_and_counted(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, [write(tmp_path, "accounts.csv", ACCOUNTS), write(tmp_path, "metrics.csv", METRICS)])
    newer = METRICS.replace("12,25,6,3.2", "11,25,5,3.0") + "ACCT-4324,2026-12-24,28,60,3,2.4,0.3,false,\n"

    report = import_files(engine, [write(tmp_path, "metrics.csv", newer)])

    assert (report.metrics_inserted, report.metrics_updated, report.metrics_unchanged) == (1, 1, 2)
    with read_session(engine) as session:
        latest = session.get(MetricSnapshot, ("ACCT-4521", date(2026, 11, 24)))
    assert latest is not None and (latest.active_users, latest.nps, latest.csat) == (11, 5, 3.0)


def test_an_accounts_file_with_fewer_columns_updates_only_those(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, [write(tmp_path, "accounts.csv", ACCOUNTS)])
    renewals = "Account ID,Name,CSM Owner,Renewal Date\nACCT-4521,Acme Corp,Sarah Chen,2027-04-30\n"

    report = import_files(engine, [write(tmp_path, "renewals.csv", renewals)])

    assert (report.accounts_inserted, report.accounts_updated) == (0, 1)
    with read_session(engine) as session:
        acme = session.get(Account, "ACCT-4521")
    assert acme is not None
    assert acme.renewal_date == date(2027, 4, 30)
    assert (acme.arr, acme.segment, acme.region, acme.tags) == (
        45_000,
        "Mid-Market",
        "North America",
        "champion_left;case_study",
    )


def test_files_with_different_metrics_for_the_same_month_merge(engine: Engine, tmp_path: Path) -> None:
    usage = "account_id,as_of,active_users,seats_purchased\nACCT-4521,2026-11-24,12,25\n"
    support = "account_id,as_of,tickets_30d,csat\nACCT-4521,2026-11-24,8,3.2\nACCT-4324,2026-11-24,2,4.5\n"

    report = import_files(
        engine,
        [
            write(tmp_path, "accounts.csv", ACCOUNTS),
            write(tmp_path, "usage.csv", usage),
            write(tmp_path, "support.csv", support),
        ],
    )

    assert report.metrics_inserted == 2
    with read_session(engine) as session:
        acme = session.get(MetricSnapshot, ("ACCT-4521", date(2026, 11, 24)))
        mega = session.get(MetricSnapshot, ("ACCT-4324", date(2026, 11, 24)))
    assert acme is not None and mega is not None
    assert (acme.active_users, acme.seats_purchased, acme.tickets_30d, acme.csat) == (12, 25, 8, 3.2)
    assert (mega.active_users, mega.tickets_30d) == (None, 2)


def test_the_same_row_in_two_files_is_imported_once(engine: Engine, tmp_path: Path) -> None:
    files = [write(tmp_path, "accounts.csv", ACCOUNTS), write(tmp_path, "october.csv", METRICS)]
    report = import_files(
        engine, [*files, write(tmp_path, "overlap.csv", METRICS.splitlines()[0] + "\n" + METRICS.splitlines()[2])]
    )

    assert (report.metrics_inserted, report.metrics_updated, report.metrics_unchanged) == (3, 0, 0)


def test_headers_and_numbers_are_read_as_people_write_them(engine: Engine, tmp_path: Path) -> None:
    accounts = (
        "Account ID,Account Name,CSM Owner,ARR,Tags\n"
        'ACCT-4521,Acme Corp,Sarah Chen,"$45,000", champion_left ; case_study \n'
    )
    metrics = (
        "ACCOUNT_ID,As Of,Active Users,seats purchased,Logins (30d),Training Completion,Exec-Sponsor Engaged,MRR\n"
        'ACCT-4521,2026-11-24,12,25,"1,200",60%,Yes,"$3,750.50"\n'
    )

    import_files(engine, [write(tmp_path, "accounts.csv", accounts), write(tmp_path, "metrics.csv", metrics)])

    with read_session(engine) as session:
        acme = session.get(Account, "ACCT-4521")
        row = session.get(MetricSnapshot, ("ACCT-4521", date(2026, 11, 24)))
    assert acme is not None and row is not None
    assert (acme.name, acme.arr, acme.tags) == ("Acme Corp", 45_000, "champion_left;case_study")
    assert (row.active_users, row.seats_purchased, row.logins_30d) == (12, 25, 1_200)
    assert row.training_completion == pytest.approx(0.6)
    assert row.exec_sponsor_engaged is True and row.mrr == 3_750.5


def test_a_european_decimal_comma_is_refused_not_guessed(engine: Engine, tmp_path: Path) -> None:
    metrics = 'account_id,as_of,csat\nACCT-4521,2026-11-24,"4,5"\n'
    failure = failure_of(engine, [write(tmp_path, "accounts.csv", ACCOUNTS), write(tmp_path, "metrics.csv", metrics)])

    assert str(failure.errors[0]) == 'metrics.csv row 2, column csat: "4,5" is not a number; expected 1–5'


def test_unknown_columns_are_named_in_a_warning_and_not_stored(engine: Engine, tmp_path: Path) -> None:
    accounts = "account_id,name,csm_owner,Favourite Colour\nACCT-4521,Acme Corp,Sarah Chen,teal\n"
    metrics = "account_id,name,as_of,nps,Sentiment Notes\nACCT-4521,Acme Corp,2026-11-24,6,grumpy\n"

    report = import_files(engine, [write(tmp_path, "accounts.csv", accounts), write(tmp_path, "metrics.csv", metrics)])

    assert report.warnings == (
        "accounts.csv: columns Healthbot does not know were not stored: Favourite Colour",
        "metrics.csv: columns Healthbot does not know were not stored: Sentiment Notes",
        "metrics.csv: columns that belong in an accounts file (with name, csm_owner) were not stored: name",
    )
    assert counts(engine) == (1, 1)


def test_blank_lines_do_not_shift_row_numbers(engine: Engine, tmp_path: Path) -> None:
    metrics = "account_id,as_of,nps\nACCT-4521,2026-10-24,7\n\nACCT-4521,2026-11-24,none-ish\n\n"
    failure = failure_of(engine, [write(tmp_path, "accounts.csv", ACCOUNTS), write(tmp_path, "metrics.csv", metrics)])

    assert [(error.row, error.column) for error in failure.errors] == [(4, "nps")]


def test_a_file_with_only_a_header_imports_nothing_and_says_so(engine: Engine, tmp_path: Path) -> None:
    report = import_files(engine, [write(tmp_path, "metrics.csv", "account_id,as_of,nps\n")])

    assert report == ImportReport(warnings=("metrics.csv: has no rows under its header, so nothing was read from it",))


def test_semicolon_separated_csv_from_european_excel(engine: Engine, tmp_path: Path) -> None:
    accounts = "account_id;name;csm_owner;arr\nACCT-4521;Acme Corp;Sarah Chen;45000\n"

    report = import_files(engine, [write(tmp_path, "accounts.csv", accounts)])

    assert report.accounts_inserted == 1


def test_xlsx_workbook_with_an_accounts_and_a_metrics_sheet(engine: Engine, tmp_path: Path) -> None:
    workbook = Workbook()
    accounts = workbook.active
    assert accounts is not None
    accounts.title = "Accounts"
    accounts.append(["Account ID", "Name", "CSM Owner", "ARR", "Renewal Date"])
    accounts.append(["ACCT-4521", "Acme Corp", "Sarah Chen", 45000, datetime(2027, 3, 31)])
    metrics = workbook.create_sheet("Metrics")
    metrics.append(
        ["Account ID", "As Of", "Active Users", "Seats Purchased", "Training Completion", "Exec Sponsor Engaged"]
    )
    metrics.append(["ACCT-4521", datetime(2026, 10, 24), 13, 25, 0.58, True])
    metrics.append([None] * 6)  # an empty row between records, as people leave them
    metrics.append(["ACCT-4521", datetime(2026, 11, 24), 12.0, 25, "60%", "no"])
    workbook.create_sheet("Notes").append(["Imported from the CRM on Monday"])
    path = tmp_path / "book.xlsx"
    workbook.save(path)

    report = import_files(engine, [path])

    assert (report.accounts_inserted, report.metrics_inserted) == (1, 2)
    assert report.warnings == ("book.xlsx: sheets without an account_id column were not read: Notes",)
    with read_session(engine) as session:
        acme = session.get(Account, "ACCT-4521")
        row = session.get(MetricSnapshot, ("ACCT-4521", date(2026, 11, 24)))
    assert acme is not None and acme.renewal_date == date(2027, 3, 31)
    assert row is not None and (row.active_users, row.training_completion, row.exec_sponsor_engaged) == (12, 0.6, False)


def test_xlsx_bad_cell_is_named_by_sheet_and_spreadsheet_row(engine: Engine, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["account_id", "name", "csm_owner", "arr"])
    sheet.append(["ACCT-4521", "Acme Corp", "Sarah Chen", 45000])
    sheet.append([None, None, None, None])
    sheet.append(["ACCT-4324", "MegaCorp", "Sarah Chen", "a lot"])
    path = tmp_path / "accounts.xlsx"
    workbook.save(path)

    failure = failure_of(engine, [path])

    assert [str(error) for error in failure.errors] == [
        'accounts.xlsx row 4, column arr: "a lot" is not a number; expected a number 0 or more, e.g. 45000 or $45,000'
    ]


def test_frames_from_code_meet_the_same_checks(engine: Engine) -> None:
    accounts = pd.DataFrame({"account_id": ["ACCT-4521"], "name": ["Acme Corp"], "csm_owner": ["Sarah Chen"]})
    metrics = pd.DataFrame(
        {
            "account_id": ["ACCT-4521", "ACCT-4521"],
            "as_of": [date(2026, 10, 24), date(2026, 11, 24)],
            "nps": [7.0, 11.0],
            "exec_sponsor_engaged": pd.array([True, None], dtype="boolean"),
        }
    )

    with pytest.raises(ImportFailed) as caught:
        import_frames(engine, accounts=accounts, metrics=metrics, source="crm")

    assert caught.value.errors == [
        RowError("crm metrics", 3, "nps", "11", "is out of range", "0–10"),
    ]
    report = import_frames(engine, accounts=accounts, metrics=metrics.iloc[:1], source="crm")
    assert (report.accounts_inserted, report.metrics_inserted) == (1, 1)


def test_cli_imports_and_summarises(tmp_path: Path, sqlite_url: str) -> None:
    files = [str(write(tmp_path, "accounts.csv", ACCOUNTS)), str(write(tmp_path, "metrics.csv", METRICS))]

    result = CliRunner().invoke(app, ["import", *files, "--db", sqlite_url])

    assert result.exit_code == 0, result.output
    assert "Accounts: 2 in the files — 2 new, 0 updated, 0 unchanged" in result.output
    assert "Metric rows: 3 in the files — 3 new, 0 updated, 0 unchanged" in result.output


def test_cli_refuses_bad_rows_with_exit_code_1_and_writes_nothing(tmp_path: Path, sqlite_url: str) -> None:
    metrics = write(tmp_path, "metrics.csv", METRICS.replace("0.58,true", "0.58,sometimes").replace(",3.2,", ",7,"))
    result = CliRunner().invoke(
        app, ["import", str(write(tmp_path, "accounts.csv", ACCOUNTS)), str(metrics), "--db", sqlite_url]
    )

    assert result.exit_code == 1
    assert "Nothing was imported: 2 problems in 1 file." in result.output
    assert 'metrics.csv row 2, column exec_sponsor_engaged: "sometimes" is not a yes/no value' in result.output
    assert 'metrics.csv row 3, column csat: "7" is out of range; expected 1–5' in result.output
    assert counts(create_db_engine(sqlite_url)) == (0, 0)


def test_cli_prints_warnings_for_unknown_columns(tmp_path: Path, sqlite_url: str) -> None:
    accounts = write(
        tmp_path, "accounts.csv", "account_id,name,csm_owner,Shoe Size\nACCT-4521,Acme Corp,Sarah Chen,42\n"
    )

    result = CliRunner().invoke(app, ["import", str(accounts), "--db", sqlite_url])

    assert result.exit_code == 0
    assert "Warning: accounts.csv: columns Healthbot does not know were not stored: Shoe Size" in result.output


def test_big_files_read_in_chunks_keep_values_and_row_numbers(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.importer.READ_CHUNK_ROWS", 7)  # the same path a 1.3M-row file takes, in 30 rows
    days = [f"2026-{month:02d}-{day:02d}" for month in range(1, 4) for day in range(1, 11)]
    rows = "".join(
        f"ACCT-{4521 if i % 2 else 4324},{day},{i % 11},{'yes' if i % 3 else 'no'}\n" for i, day in enumerate(days)
    )
    metrics = write(tmp_path, "metrics.csv", "account_id,as_of,nps,exec_sponsor_engaged\n" + rows)

    report = import_files(engine, [write(tmp_path, "accounts.csv", ACCOUNTS), metrics])

    assert report.metrics_inserted == 30
    with read_session(engine) as session:
        last = session.get(MetricSnapshot, ("ACCT-4521", date(2026, 3, 10)))
    assert last is not None and (last.nps, last.exec_sponsor_engaged) == (29 % 11, True)
    broken = write(
        tmp_path,
        "metrics.csv",
        "account_id,as_of,nps,exec_sponsor_engaged\n" + rows.replace(",2026-03-09,", ",2026-03-32,"),
    )
    failure = failure_of(engine, [broken])
    assert [(error.row, error.column, error.value) for error in failure.errors] == [(30, "as_of", "2026-03-32")]


def test_a_csv_saved_by_excel_on_windows(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes("account_id,name,csm_owner\nACCT-7,Café Société,Zoë Müller\n".encode("cp1252"))

    import_files(engine, [path])

    with read_session(engine) as session:
        account = session.get(Account, "ACCT-7")
    assert account is not None and (account.name, account.csm_owner) == ("Café Société", "Zoë Müller")


def test_cli_import_of_a_generated_book_with_progress(tmp_path: Path, sqlite_url: str) -> None:
    from bot.sample import generate_portfolio

    accounts, metrics = generate_portfolio(500, date(2026, 11, 24))
    accounts.to_csv(tmp_path / "accounts.csv", index=False, date_format="%Y-%m-%d")
    metrics.to_csv(tmp_path / "metrics.csv", index=False, date_format="%Y-%m-%d")

    files = [str(tmp_path / "accounts.csv"), str(tmp_path / "metrics.csv")]
    result = CliRunner().invoke(app, ["import", *files, "--db", sqlite_url])

    assert result.exit_code == 0, result.output
    assert f"Metric rows: {len(metrics):,} in the files — {len(metrics):,} new" in result.output
    assert counts(create_db_engine(sqlite_url)) == (500, len(metrics))


def test_one_file_with_account_and_metric_columns_feeds_both_tables(engine: Engine, tmp_path: Path) -> None:
    header = "account_id,name,csm_owner,arr,as_of,nps\n"
    rows = "ACCT-1,Acme Corp,Sarah Chen,45000,2026-10-24,7\nACCT-1,Acme Corp,Sarah Chen,45000,2026-11-24,6\n"

    report = import_files(engine, [write(tmp_path, "export.csv", header + rows)])

    assert (report.accounts_inserted, report.metrics_inserted) == (1, 2)
    changed = rows.replace("45000,2026-11-24", "50000,2026-11-24")
    failure = failure_of(engine, [write(tmp_path, "export.csv", header + changed)])
    assert [str(error) for error in failure.errors] == [
        'export.csv row 3, column arr: "50000" differs from export.csv row 2 ("45000") for ACCT-1; '
        "expected one value per account"
    ]
    assert failure.format().startswith("Nothing was imported: 1 problem in 1 file. Fix it and run the import again.")
