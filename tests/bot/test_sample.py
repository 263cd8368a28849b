"""The demo book tells seed 001's stories, and the generator makes believable books of any size."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.importer import ImportReport, import_frames
from bot.sample import generate_portfolio, load_sample, sample_portfolio, snapshot_dates
from bot.store import Account, MetricSnapshot, read_session
from bot.store import columns as schema

TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def book() -> tuple[pd.DataFrame, pd.DataFrame]:
    return sample_portfolio(TODAY)


def history(metrics: pd.DataFrame, account_id: str) -> pd.DataFrame:
    return metrics[metrics["account_id"] == account_id].sort_values("as_of").reset_index(drop=True)


def latest(metrics: pd.DataFrame) -> pd.DataFrame:
    return metrics[metrics["as_of"] == pd.Timestamp(TODAY)].set_index("account_id")


def current(accounts: pd.DataFrame) -> pd.DataFrame:
    return accounts[accounts["churned_on"].isna()]


def test_acme_corp_slides_as_in_the_seed(book: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    accounts, metrics = book
    acme = accounts.set_index("account_id").loc["ACCT-4521"]
    months = history(metrics, "ACCT-4521")

    assert (acme["name"], acme["csm_owner"], acme["segment"], acme["arr"]) == (
        "Acme Corp",
        "Sarah Chen",
        "Mid-Market",
        45_000,
    )
    assert acme["renewal_date"] == pd.Timestamp(TODAY + timedelta(days=127))
    assert len(months) == 13 and months["as_of"].iloc[-1] == pd.Timestamp(TODAY)
    utilisation = (months["active_users"] / months["seats_purchased"]).round(2).tolist()
    assert utilisation[0] == 0.68 and utilisation[-1] == 0.48
    assert (np.diff(utilisation[-4:]) < 0).all()  # the slide is the last quarter's
    assert (months["tickets_30d"].iloc[0], months["tickets_30d"].iloc[-1]) == (3, 8)
    assert (months["nps"].iloc[0], months["nps"].iloc[-1]) == (8, 6)
    now = months.iloc[-1]
    assert (now["features_used"], now["features_total"], now["csat"], now["escalations_90d"]) == (4, 12, 3.2, 1)
    assert (now["csm_touches_90d"], now["exec_sponsor_engaged"], now["training_completion"]) == (6, True, 0.6)
    assert (pd.Timestamp(TODAY) - now["last_qbr"]).days == 45
    assert months["days_overdue"].eq(0).all()


def test_megacorp_renews_in_45_days(book: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    accounts, _ = book
    mega = accounts.set_index("name").loc["MegaCorp"]

    assert mega["csm_owner"] == "Sarah Chen" and mega["arr"] == 82_000
    assert mega["renewal_date"] == pd.Timestamp(TODAY + timedelta(days=45))


def test_sixty_current_accounts_across_six_csms_with_sarah_holding_about_thirty(
    book: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    accounts, _ = book
    owners = current(accounts)["csm_owner"].value_counts()

    assert len(current(accounts)) == 60
    assert len(owners) == 6 and owners.index[0] == "Sarah Chen" and 28 <= owners["Sarah Chen"] <= 34
    assert owners.drop("Sarah Chen").max() < 10
    csms = accounts.drop_duplicates("csm_owner").set_index("csm_owner")
    assert csms.loc["Sarah Chen", "csm_slack_id"] == "U0SARAH001"
    assert csms["csm_slack_id"].str.fullmatch(r"U0[A-Z]{5}\d{3}").all()
    assert csms["csm_email"].str.endswith("@example.com").all()


def test_a_varied_book(book: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    accounts, _ = book
    now = current(accounts)

    assert set(now["segment"]) == {"Enterprise", "Mid-Market", "SMB"}
    assert now["region"].nunique() >= 4 and now["industry"].nunique() >= 6 and now["plan_tier"].nunique() >= 3
    assert now["arr"].min() >= 5_000 and now["arr"].max() <= 250_000
    days = (now["renewal_date"] - pd.Timestamp(TODAY)).dt.days
    assert days.min() > 0 and days.max() <= 365 and days.quantile(0.75) - days.quantile(0.25) > 100
    assert (now["lifecycle_stage"] == "onboarding").sum() == 2


def test_the_named_stories_are_all_there(book: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    accounts, _ = book
    names = set(accounts["name"])
    for name in ("TechFlow", "DataMax", "CloudNet", "GlobalTech", "StartupXYZ", "InnovateCo", "EnterpriseABC"):
        assert name in names
    by_name = accounts.set_index("name")
    for name in ("OldTech", "DataFlow", "BuildCo"):
        assert (by_name.loc[name, "renewal_date"] - pd.Timestamp(TODAY)).days <= 90
    arr = by_name["arr"]
    assert (arr["TechFlow"], arr["DataMax"], arr["CloudNet"], arr["GlobalTech"]) == (85_000, 72_000, 68_000, 38_000)


def test_expansion_ready_smb_accounts(book: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    accounts, metrics = book
    now = latest(metrics)
    smb = now.loc[now.index.isin(accounts.loc[accounts["segment"] == "SMB", "account_id"])]
    utilisation = smb["active_users"] / smb["seats_purchased"]

    ready = smb[(utilisation >= 0.9) & (smb["nps"] >= 9)]
    assert len(ready) >= 4


def test_warning_signs_the_seed_names(book: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    accounts, metrics = book
    now = latest(metrics)

    quiet = (pd.Timestamp(TODAY) - now["last_login"]).dt.days >= 14
    assert quiet.sum() >= 3
    assert (now["days_overdue"] == 45).sum() == 1
    assert now.loc[now["plan_change"] == "downgrade"].index.tolist() == ["ACCT-4394"]
    tagged = current(accounts).dropna(subset=["tags"])
    assert tagged["tags"].str.split(";").map(lambda tags: "champion_left" in tags).sum() == 1


def test_slow_erosion_three_months_running(book: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, metrics = book
    keystone = history(metrics, "ACCT-4387")
    utilisation = (keystone["active_users"] / keystone["seats_purchased"]).to_numpy()

    assert (np.diff(utilisation[-4:]) < 0).all()
    assert utilisation[-1] > 0.5  # eroding, not collapsing


def test_former_customers_fade_and_stop_at_churn(book: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    accounts, metrics = book
    former = accounts.dropna(subset=["churned_on"])

    assert 15 <= len(former) <= 20
    assert (former["churned_on"] > pd.Timestamp(snapshot_dates(TODAY)[0])).all()
    assert (former["churned_on"] <= pd.Timestamp(TODAY)).all()
    last_seen = metrics.groupby("account_id")["as_of"].max()
    assert (last_seen[former["account_id"]].to_numpy() <= former["churned_on"].to_numpy()).all()
    utilisation = metrics["active_users"] / metrics["seats_purchased"]
    first = utilisation.groupby(metrics["account_id"]).first()[former["account_id"]]
    final = utilisation.groupby(metrics["account_id"]).last()[former["account_id"]]
    assert (final < first).mean() >= 0.8


def test_some_struggling_accounts_stay(book: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    accounts, metrics = book
    staying = metrics[metrics["account_id"].isin(current(accounts)["account_id"])]
    utilisation = staying["active_users"] / staying["seats_purchased"]

    ever_low = utilisation.groupby(staying["account_id"]).min() < 0.45
    assert ever_low.sum() >= 5


def test_the_sample_is_the_same_every_time_for_a_day() -> None:
    first, second = sample_portfolio(TODAY), sample_portfolio(TODAY)

    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])


def test_snapshots_end_on_today_on_the_same_day_of_month() -> None:
    assert snapshot_dates(date(2026, 3, 31))[-4:] == [
        date(2025, 12, 31),
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    assert len(snapshot_dates(TODAY)) == 13 and snapshot_dates(TODAY)[0] == date(2025, 11, 24)
    _, metrics = sample_portfolio(date(2026, 3, 31))
    assert metrics["as_of"].max() == pd.Timestamp(2026, 3, 31)
    assert pd.Timestamp(2026, 2, 28) in set(metrics["as_of"])


def test_load_sample_stores_the_book_once(engine: Engine) -> None:
    accounts, metrics = sample_portfolio(TODAY)

    first = load_sample(engine, TODAY)
    again = load_sample(engine, TODAY)

    assert (first.accounts_inserted, first.metrics_inserted) == (len(accounts), len(metrics))
    assert again == ImportReport(accounts_unchanged=len(accounts), metrics_unchanged=len(metrics))
    with read_session(engine) as session:
        assert session.execute(select(func.count()).select_from(MetricSnapshot)).scalar_one() == len(metrics)
        acme = session.get(Account, "ACCT-4521")
        row = session.get(MetricSnapshot, ("ACCT-4521", TODAY))
    assert acme is not None and acme.csm_owner == "Sarah Chen"
    assert row is not None and (row.active_users, row.seats_purchased, row.tickets_30d, row.nps) == (12, 25, 8, 6)


def test_generated_books_have_the_contract_columns_and_pass_the_importer(engine: Engine) -> None:
    accounts, metrics = generate_portfolio(400, TODAY, seed=3)

    assert list(accounts.columns) == list(schema.ACCOUNT_COLUMNS)
    assert list(metrics.columns) == list(schema.METRIC_COLUMNS)
    assert accounts["account_id"].is_unique and len(accounts) == 400
    report = import_frames(engine, accounts=accounts, metrics=metrics, source="generated")
    assert (report.accounts_inserted, report.metrics_inserted) == (400, len(metrics))


def test_generated_books_look_like_a_real_portfolio() -> None:
    accounts, metrics = generate_portfolio(5_000, TODAY)

    per_account = metrics.groupby("account_id").size()
    assert per_account.max() == 13 and per_account.median() == 13
    assert 0.04 <= accounts["churned_on"].notna().mean() <= 0.08
    assert (accounts["lifecycle_stage"] == "onboarding").sum() > 0
    assert accounts["segment"].value_counts(normalize=True)["SMB"] == pytest.approx(0.5, abs=0.05)
    utilisation = (metrics["active_users"] / metrics["seats_purchased"]).astype(float)
    assert 0.3 < utilisation.median() < 0.9
    assert metrics["nps"].between(0, 10).all() and metrics["csat"].between(1, 5).all()


def test_generation_is_deterministic_per_seed() -> None:
    first, again, other = (generate_portfolio(200, TODAY, seed) for seed in (7, 7, 8))

    pd.testing.assert_frame_equal(first[1], again[1])
    assert not first[1]["nps"].equals(other[1]["nps"])
