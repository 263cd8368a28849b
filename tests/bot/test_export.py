"""The report people take away: the CSV a CRM or BI tool imports as-is, and the XLSX leadership reads."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.export import (
    REPORT_COLUMNS,
    ExportError,
    SheetNames,
    band_colours,
    filter_report,
    summarise_report,
    write_report,
)

AS_OF = date(2026, 11, 24)


def account(
    account_id: str,
    name: str,
    csm: str,
    score: float,
    status: str,
    *,
    arr: float | None = 45_000,
    segment: str | None = "Mid-Market",
    risks: str = "",
    action: str = "Keep cadence",
    trend: float | None = 0,
    last_touch: date | None = date(2026, 11, 10),
    expansion: str = "",
) -> dict[str, object]:
    return {
        "Account ID": account_id,
        "Account Name": name,
        "CSM Owner": csm,
        "Health Score": float(score),
        "Status": status,
        "Last Touch": last_touch,
        "Risk Notes": risks,
        "Action Needed": action,
        "Trend vs Last Month": trend,
        "Segment": segment,
        "ARR": arr,
        "Renewal Date": date(2027, 3, 31),
        "Confidence": 0.9,
        "Upsell Opportunity": expansion,
    }


@pytest.fixture
def table() -> pd.DataFrame:
    """Sarah Chen's book from seed 001, trimmed, plus a colleague's: every band, risks, upsell, missing data."""
    return pd.DataFrame(
        [
            account(
                "ACCT-4521",
                "Acme Corp",
                "Sarah Chen",
                68,
                "Yellow",
                risks="Usage decline: 48% seat utilisation; Support spike (8 tickets)",
                action="Address usage decline",
                trend=-3,
            ),
            account(
                "ACCT-1001",
                "MegaCorp",
                "Sarah Chen",
                52,
                "Red",
                arr=82_000,
                segment="Enterprise",
                risks="Usage decline: 31% seat utilisation; Renewal risk; Support spike",
                action="Executive escalation",
                trend=-6,
            ),
            account("ACCT-1002", "GlobalTech", "Sarah Chen", 71, "Yellow", arr=38_000, risks="Champion left"),
            account(
                "ACCT-1003",
                "TechFlow",
                "Sarah Chen",
                88,
                "Green",
                arr=85_000,
                trend=2,
                expansion="Seat expansion",
            ),
            account("ACCT-1004", "Société Générale", "Sarah Chen", 84, "Green", arr=None, last_touch=None),
            account(
                "ACCT-2001",
                "OldTech",
                "Marcus Webb",
                41,
                "Red",
                arr=30_000,
                segment="SMB",
                risks="No login in 14+ days; Invoice 45 days overdue",
                trend=None,
            ),
            account(
                "ACCT-2002",
                "TinyCo",
                "Marcus Webb",
                91,
                "Green",
                arr=12_000,
                segment="SMB",
                expansion="Tier upgrade",
            ),
        ]
    )


# ------------------------------------------------------------------------------------------------------------ CSV


def test_csv_round_trips_through_pandas_with_the_contract_columns_in_order(table: pd.DataFrame, tmp_path: Path) -> None:
    shuffled = table[list(reversed(table.columns))]
    result = write_report(shuffled, tmp_path / "report.csv", format="csv")

    back = pd.read_csv(tmp_path / "report.csv", encoding="utf-8")
    assert list(back.columns) == [*REPORT_COLUMNS, "Upsell Opportunity"]
    assert result.rows == len(back) == 7
    acme = back.set_index("Account Name").loc["Acme Corp"]
    assert acme["Health Score"] == 68
    assert acme["Status"] == "Yellow"
    assert acme["ARR"] == 45_000
    assert acme["Trend vs Last Month"] == -3
    assert acme["Confidence"] == 0.9
    assert acme["Last Touch"] == "2026-11-10"
    assert acme["Renewal Date"] == "2027-03-31"


def test_csv_numbers_are_plain_dates_iso_and_no_data_is_an_empty_cell(table: pd.DataFrame, tmp_path: Path) -> None:
    table.loc[0, "Health Score"] = 67.99999999999
    write_report(table, tmp_path / "report.csv", format="csv")

    lines = (tmp_path / "report.csv").read_text(encoding="utf-8").splitlines()
    acme = next(line for line in lines if "Acme Corp" in line)
    assert acme.startswith("ACCT-4521,Acme Corp,Sarah Chen,68,Yellow,2026-11-10,")
    assert ",45000," in acme and "$" not in acme
    societe = next(line for line in lines if "Société Générale" in line)
    assert ",84,Green,," in societe  # no last touch: an empty cell, not "NaT" or "None"
    assert "nan" not in (tmp_path / "report.csv").read_text().lower()


def test_csv_accepts_dates_as_pandas_timestamps(table: pd.DataFrame, tmp_path: Path) -> None:
    table["Renewal Date"] = pd.to_datetime(table["Renewal Date"])
    write_report(table, tmp_path / "report.csv", format="csv")
    back = pd.read_csv(tmp_path / "report.csv")
    assert set(back["Renewal Date"]) == {"2027-03-31"}


def test_a_table_missing_a_contract_column_is_our_bug_and_writes_nothing(table: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Risk Notes"):
        write_report(table.drop(columns=["Risk Notes"]), tmp_path / "report.csv", format="csv")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_named_with_what_to_do(table: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist") as err:
        write_report(table, tmp_path / "nowhere" / "report.csv", format="csv")
    assert "nowhere" in str(err.value)


def test_rewriting_replaces_the_file_and_leaves_no_partial_files(table: pd.DataFrame, tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    target.write_text("an older report")
    write_report(table, target, format="xlsx")
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]
    assert openpyxl.load_workbook(target).sheetnames == ["Summary", "Accounts"]


# ----------------------------------------------------------------------------------------------------------- XLSX


def header(sheet: openpyxl.worksheet.worksheet.Worksheet) -> list[object]:
    return [cell.value for cell in sheet[1]]


def rows_by_name(sheet: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, dict[str, openpyxl.cell.Cell]]:
    names = header(sheet)
    return {row[1].value: dict(zip(names, row, strict=True)) for row in sheet.iter_rows(min_row=2)}


def test_xlsx_has_a_summary_then_the_accounts_with_formats_fills_frozen_header_and_filter(
    table: pd.DataFrame, tmp_path: Path
) -> None:
    result = write_report(table, tmp_path / "report.xlsx", format="xlsx", as_of=AS_OF)

    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert book.sheetnames == result.sheets == ["Summary", "Accounts"]
    sheet = book["Accounts"]
    assert header(sheet) == [*REPORT_COLUMNS, "Upsell Opportunity"]
    assert sheet.max_row == 8
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:N8"
    assert sheet["A1"].font.bold and sheet["A1"].fill.fgColor.rgb.endswith("1F3864")

    acme = rows_by_name(sheet)["Acme Corp"]
    assert acme["ARR"].value == 45_000 and acme["ARR"].number_format == "$#,##0"
    assert acme["Renewal Date"].value == datetime(2027, 3, 31) and acme["Renewal Date"].number_format == "yyyy-mm-dd"
    assert acme["Last Touch"].number_format == "yyyy-mm-dd"
    assert acme["Health Score"].value == 68 and acme["Health Score"].number_format == "0"
    assert acme["Confidence"].number_format == "0%"
    assert acme["Trend vs Last Month"].value == -3

    fills = {name: row["Status"].fill.fgColor.rgb[-6:] for name, row in rows_by_name(sheet).items()}
    assert fills["TechFlow"] == "C6EFCE"  # green
    assert fills["Acme Corp"] == "FFEB9C"  # yellow
    assert fills["MegaCorp"] == "FFC7CE"  # red

    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFG"}
    assert widths["B"] >= len("Société Générale")  # the longest account name fits
    assert widths["G"] > widths["E"]  # Risk Notes wider than Status


def test_xlsx_grouped_by_csm_has_one_sheet_per_csm_holding_only_their_accounts(
    table: pd.DataFrame, tmp_path: Path
) -> None:
    result = write_report(table, tmp_path / "by-csm.xlsx", format="xlsx", group_by="csm")

    book = openpyxl.load_workbook(tmp_path / "by-csm.xlsx")
    assert book.sheetnames == result.sheets == ["Summary", "Marcus Webb", "Sarah Chen"]
    sarahs = {"Acme Corp", "MegaCorp", "GlobalTech", "TechFlow", "Société Générale"}
    assert set(rows_by_name(book["Sarah Chen"])) == sarahs
    assert set(rows_by_name(book["Marcus Webb"])) == {"OldTech", "TinyCo"}
    for name in ("Sarah Chen", "Marcus Webb"):
        assert book[name].freeze_panes == "A2"
        assert header(book[name])[:3] == ["Account ID", "Account Name", "CSM Owner"]
        assert book[name]["A1"].font.bold and book[name].column_dimensions["B"].width >= len("Account Name")
        arr = [row["ARR"] for row in rows_by_name(book[name]).values() if row["ARR"].value is not None]
        assert {cell.number_format for cell in arr} == {"$#,##0"}
    assert rows_by_name(book["Marcus Webb"])["OldTech"]["Status"].fill.fgColor.rgb.endswith("FFC7CE")


def test_xlsx_grouped_by_segment_names_awkward_sheets_so_excel_opens_them(table: pd.DataFrame, tmp_path: Path) -> None:
    table.loc[0, "Segment"] = "Mid-Market / EMEA: Strategic [Tier 1] accounts"
    table.loc[1, "Segment"] = "Mid-Market / EMEA: Strategic [Tier 2] accounts"
    table.loc[2, "Segment"] = None
    write_report(table, tmp_path / "by-segment.xlsx", format="xlsx", group_by="segment")

    book = openpyxl.load_workbook(tmp_path / "by-segment.xlsx")
    names = book.sheetnames
    assert names[0] == "Summary"
    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in names)
    assert len({name.casefold() for name in names}) == len(names)
    assert "(none)" in names  # GlobalTech has no segment, and still gets a sheet
    assert sum(book[name].max_row - 1 for name in names[1:]) == len(table)


def test_sheet_names_are_sanitised_shortened_and_unique_ignoring_case() -> None:
    names = SheetNames()
    assert names.add("Summary") == "Summary"
    assert names.add("summary") == "summary (2)"
    assert names.add("EMEA/APAC: *key*") == "EMEA APAC   key"
    long = "A segment name far longer than Excel allows"
    first, second = names.add(long), names.add(long)
    assert first == long[:31].rstrip() and second.endswith(" (2)") and len(second) == 31
    assert names.add("History") == "History (sheet)"  # Excel reserves "History"
    assert names.add("''") == "Sheet"


def test_xlsx_keeps_formula_looking_names_as_text_and_drops_control_characters(
    table: pd.DataFrame, tmp_path: Path
) -> None:
    table.loc[0, "Account Name"] = '=HYPERLINK("http://evil.example","Acme")'
    table.loc[1, "Account Name"] = "Mega\x07Corp"
    write_report(table, tmp_path / "report.xlsx", format="xlsx")

    sheet = openpyxl.load_workbook(tmp_path / "report.xlsx")["Accounts"]
    cell = sheet["B2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil.example","Acme")'
    assert sheet["B3"].value == "MegaCorp"


def test_summary_sheet_shows_the_summary_block(table: pd.DataFrame, tmp_path: Path) -> None:
    write_report(table, tmp_path / "report.xlsx", format="xlsx", group_by="csm", as_of=AS_OF)

    sheet = openpyxl.load_workbook(tmp_path / "report.xlsx")["Summary"]
    cells = {row[0].value: row for row in sheet.iter_rows() if row and row[0].value is not None}
    assert "2026-11-24" in str(sheet["A1"].value)
    assert cells["At-risk accounts"][1].value == 4
    assert cells["At-risk ARR"][1].value == 195_000 and cells["At-risk ARR"][1].number_format == "$#,##0"
    assert cells["Upsell-ready accounts"][1].value == 2
    assert cells["Red"][1].value == 2 and cells["Red"][0].fill.fgColor.rgb.endswith("FFC7CE")
    assert cells["Usage decline"][1].value == 2
    assert cells["TechFlow"][3].value == 85_000
    assert cells["Sarah Chen"][1].value == 5  # the per-CSM table when grouped


# -------------------------------------------------------------------------------------------------------- Summary


def test_summary_counts_at_risk_accounts_outside_the_best_band(table: pd.DataFrame) -> None:
    summary = summarise_report(table)

    assert summary.accounts == 7
    assert summary.total_arr == 292_000  # Société Générale has no ARR: counted as an account, not as money
    assert [b.band for b in summary.bands] == ["Green", "Yellow", "Red"]
    assert [(b.count, b.arr) for b in summary.bands] == [(3, 97_000), (2, 83_000), (2, 112_000)]
    assert summary.at_risk_accounts == 4
    assert summary.at_risk_arr == 195_000
    assert summary.average_score == pytest.approx((68 + 52 + 71 + 88 + 84 + 41 + 91) / 7)


def test_summary_top_risk_drivers_count_each_account_once_biggest_first(table: pd.DataFrame) -> None:
    drivers = summarise_report(table).risk_drivers

    assert [(d.title, d.accounts, d.arr) for d in drivers] == [
        ("Support spike", 2, 127_000),  # the figures after ":" or "(" are not part of the driver
        ("Usage decline", 2, 127_000),
        ("Renewal risk", 1, 82_000),
        ("Champion left", 1, 38_000),
        ("Invoice 45 days overdue", 1, 30_000),
    ]


def test_accounts_with_the_same_arr_and_driver_each_count(table: pd.DataFrame) -> None:
    table.loc[[0, 1, 2], "ARR"] = 50_000
    table.loc[[0, 1, 2], "Risk Notes"] = "Usage decline: 40% seats; Usage decline (repeated)"
    drivers = {d.title: (d.accounts, d.arr) for d in summarise_report(table).risk_drivers}
    assert drivers["Usage decline"] == (3, 150_000)


def test_summary_lists_upsell_ready_accounts_biggest_first(table: pd.DataFrame) -> None:
    summary = summarise_report(table)
    assert [ref.name for ref in summary.upsell_ready] == ["TechFlow", "TinyCo"]
    assert summary.upsell_ready_count == 2 and summary.upsell_ready_arr == 97_000


def test_summary_follows_the_models_band_order_and_shows_empty_bands(table: pd.DataFrame) -> None:
    summary = summarise_report(table, bands=["Green", "Yellow", "Orange", "Red"])
    assert [(b.band, b.count) for b in summary.bands] == [("Green", 3), ("Yellow", 2), ("Orange", 0), ("Red", 2)]


def test_summary_groups_give_accounts_arr_and_band_counts(table: pd.DataFrame) -> None:
    groups = summarise_report(table, group_by="segment").groups
    by_name = {g.group: g for g in groups}
    assert set(by_name) == {"Enterprise", "Mid-Market", "SMB"}
    assert by_name["SMB"].accounts == 2 and by_name["SMB"].arr == 42_000
    assert by_name["SMB"].band_counts == {"Green": 1, "Yellow": 0, "Red": 1}
    assert by_name["SMB"].average_score == 66


def test_band_colours_know_the_usual_names_and_rank_the_models_own() -> None:
    assert band_colours("green") == band_colours("Healthy")
    assert band_colours("Critical") == band_colours("Red")
    order = ["Thriving", "Steady", "Wobbly", "Sinking"]
    assert band_colours("Thriving", order) == band_colours("Green")
    assert band_colours("Sinking", order) == band_colours("Red")


# -------------------------------------------------------------------------------------------------------- Filters


@pytest.mark.parametrize("asked", ["Sarah Chen", "sarah chen", "Sarah", "  SARAH "])
def test_csm_filter_matches_the_full_or_first_name_ignoring_case(table: pd.DataFrame, asked: str) -> None:
    kept = filter_report(table, csm=asked)
    assert set(kept["CSM Owner"]) == {"Sarah Chen"} and len(kept) == 5


def test_segment_and_csm_filters_combine(table: pd.DataFrame) -> None:
    kept = filter_report(table, csm="Sarah", segment="enterprise")
    assert list(kept["Account Name"]) == ["MegaCorp"]


def test_an_unknown_csm_is_refused_with_the_closest_names(table: pd.DataFrame) -> None:
    with pytest.raises(ExportError) as err:
        filter_report(table, csm="Sara Chen")
    assert "Sara Chen" in str(err.value) and "Sarah Chen" in str(err.value) and "--csm" in str(err.value)


def test_an_unknown_segment_is_refused_with_the_closest_names(table: pd.DataFrame) -> None:
    with pytest.raises(ExportError, match="Enterprise"):
        filter_report(table, segment="Enterprize")


def test_a_first_name_shared_by_two_csms_is_refused_as_ambiguous(table: pd.DataFrame) -> None:
    table.loc[5, "CSM Owner"] = "Sarah Lee"
    with pytest.raises(ExportError, match="Sarah Chen or Sarah Lee"):
        filter_report(table, csm="Sarah")


# ------------------------------------------------------------------------------- The command, on the demo portfolio


def export(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["export", *args])
    return result.exit_code, result.output


def test_export_csv_of_the_demo_portfolio_round_trips_with_the_contract_columns(demo_db: str, tmp_path: Path) -> None:
    code, said = export("--format", "csv", "-o", str(tmp_path / "report.csv"), "--db", demo_db)

    assert code == 0, said
    back = pd.read_csv(tmp_path / "report.csv")
    assert list(back.columns[: len(REPORT_COLUMNS)]) == list(REPORT_COLUMNS)
    assert back["Account ID"].is_unique and len(back) >= 50
    assert f"Wrote {len(back)} accounts scored on 2026-11-24" in said and "report.csv" in said
    acme = back.set_index("Account Name").loc["Acme Corp"]
    assert acme["CSM Owner"] == "Sarah Chen" and acme["Status"] == "Yellow" and acme["ARR"] == 45_000
    assert set(back["Status"]) <= {"Green", "Yellow", "Red"}
    assert back["Health Score"].between(0, 100).all()
    assert (back["Upsell Opportunity"].notna()).sum() > 0  # the demo's expansion-ready SMB accounts


def test_export_xlsx_grouped_by_csm_has_a_sheet_per_csm(demo_db: str, tmp_path: Path) -> None:
    code, said = export("--format", "xlsx", "-o", str(tmp_path / "r.xlsx"), "--group-by", "csm", "--db", demo_db)

    assert code == 0, said
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames[0] == "Summary" and "Sarah Chen" in book.sheetnames
    sarah = book["Sarah Chen"]
    assert {row[2] for row in sarah.iter_rows(min_row=2, values_only=True)} == {"Sarah Chen"}
    assert sarah.freeze_panes == "A2"
    assert "sheets: Summary" in said and "Sarah Chen" in said
    summary = {row[0]: row for row in book["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Upsell-ready accounts"][1] > 0 and summary["At-risk accounts"][1] > 0


def test_export_filtered_to_one_csm_and_segment(demo_db: str, tmp_path: Path) -> None:
    code, said = export(
        "--format", "csv", "-o", str(tmp_path / "r.csv"), "--csm", "sarah", "--segment", "mid-market", "--db", demo_db
    )
    assert code == 0, said
    back = pd.read_csv(tmp_path / "r.csv")
    assert set(back["CSM Owner"]) == {"Sarah Chen"} and set(back["Segment"]) == {"Mid-Market"}
    assert "Acme Corp" in set(back["Account Name"])


def test_export_for_a_day_without_scores_says_what_to_run(demo_db: str, tmp_path: Path) -> None:
    code, said = export("--format", "xlsx", "-o", str(tmp_path / "r.xlsx"), "--as-of", "2026-11-20", "--db", demo_db)

    assert code == 1
    assert "No scores for 2026-11-20" in said and "healthbot score --as-of 2026-11-20" in said
    assert not (tmp_path / "r.xlsx").exists()


def test_export_as_of_an_earlier_scored_day_shows_that_day(demo_db: str, tmp_path: Path) -> None:
    code, said = export("--format", "csv", "-o", str(tmp_path / "r.csv"), "--as-of", "2026-08-24", "--db", demo_db)
    assert code == 0, said
    assert "scored on 2026-08-24" in said


def test_export_from_an_empty_store_says_to_score_first(sqlite_url: str, tmp_path: Path) -> None:
    code, said = export("--format", "csv", "-o", str(tmp_path / "r.csv"), "--db", sqlite_url)
    assert code == 1 and "healthbot score" in said


def test_export_names_an_unknown_csm_and_the_closest(demo_db: str, tmp_path: Path) -> None:
    code, said = export("--format", "csv", "-o", str(tmp_path / "r.csv"), "--csm", "Sara Chen", "--db", demo_db)
    assert code == 1 and "Sarah Chen" in said and "--csm" in said


def test_export_into_a_missing_folder_is_refused_plainly(demo_db: str, tmp_path: Path) -> None:
    code, said = export("--format", "csv", "-o", str(tmp_path / "no" / "r.csv"), "--db", demo_db)
    assert code == 1 and "does not exist" in said


def test_export_refuses_a_date_that_is_not_one(demo_db: str, tmp_path: Path) -> None:
    code, said = export("--format", "csv", "-o", str(tmp_path / "r.csv"), "--as-of", "24/11/2026", "--db", demo_db)
    assert code == 2 and "YYYY-MM-DD" in said
