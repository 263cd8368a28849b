"""An outside check of the health score as a churn predictor, end to end through the command line.

A churn simulator written apart from the model and from its tests: SaaS customers whose monthly churn hazard follows
their product use and their price (feature adoption, price per active user, a fall in logins, and seat utilisation
in the direction a CS team would not expect), plus a part no one can observe and churn unrelated to anything. Its
book is written as CONTRACT data files and then, as a user would:

    healthbot import accounts.csv metrics.csv
    healthbot backtest --json --write-model learned.toml     (scores the history itself)
    HEALTHBOT_MODEL=learned.toml healthbot score --history   (in a copy of the store)

Every AUC printed here is computed by this script from the stored scores, over the snapshots whose 90-day horizon
lies inside the data, on the later dates only (the learned model never saw them): the default model, the learned
model, a plain logistic regression on the same observable columns fitted on the earlier dates, and the simulator's
own hazard (the ceiling).

    python bench/eval_churn.py [--accounts 4000] [--seed 11]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

HORIZON = 90
MONTHS = 18
START = date(2025, 6, 1)


def simulate(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Accounts, monthly metric snapshots, and each snapshot's true hazard of leaving within the next month."""
    rng = np.random.default_rng(seed)
    seats = np.maximum(3, rng.lognormal(3.0, 0.9, n)).round()
    price = rng.lognormal(np.log(40), 0.35, n)  # per seat per month
    frailty = rng.normal(0, 0.8, n)  # what no one observes
    value = rng.normal(0, 1, n)
    alive = np.ones(n, bool)
    churned_on: list[date | None] = [None] * n
    logins_before = np.full(n, np.nan)
    rows, hazards = [], []
    for month in range(MONTHS):
        as_of = date(START.year + (START.month - 1 + month) // 12, (START.month - 1 + month) % 12 + 1, 1)
        value = 0.85 * value + rng.normal(0, 0.45, n)
        utilisation = 1 / (1 + np.exp(-(0.4 + 0.7 * value + rng.normal(0, 0.6, n))))
        active = np.maximum(1, np.round(seats * utilisation))
        features_total = np.full(n, 24.0)
        adoption = 1 / (1 + np.exp(-(0.9 * value - 0.3 + rng.normal(0, 0.5, n))))
        features_used = rng.binomial(24, adoption).astype(float)
        logins = rng.poisson(active * 9 * np.exp(0.25 * value))
        tickets = rng.poisson(1 + 0.08 * seats**0.5 * (1.5 - adoption))
        nps = np.where(rng.random(n) < 0.45, np.clip(np.round(7 + 1.4 * value + rng.normal(0, 1.5, n)), 0, 10), np.nan)
        mrr = seats * price
        touches = rng.poisson(3, n)
        login_fall = np.where(np.isnan(logins_before), 0, np.clip(1 - logins / np.maximum(logins_before, 1), 0, 1))
        price_per_active = mrr / active
        linear = (
            -5.0
            - 0.9 * (features_used / 24 - 0.5) * 4
            + 0.55 * (np.log(price_per_active) - np.log(60))
            + 1.2 * login_fall
            + 0.9 * (utilisation - 0.6)  # fuller accounts leave more often: they outgrow the plan
            + frailty
        )
        hazard = 1 / (1 + np.exp(-linear)) + 0.004  # and some churn unrelated to anything
        for i in np.flatnonzero(alive):
            rows.append(
                (
                    f"SIM-{i:05d}",
                    as_of.isoformat(),
                    int(active[i]),
                    int(seats[i]),
                    int(logins[i]),
                    int(features_used[i]),
                    int(features_total[i]),
                    int(tickets[i]),
                    None if np.isnan(nps[i]) else int(nps[i]),
                    round(float(mrr[i]), 2),
                    int(touches[i]),
                    (as_of - timedelta(days=int(rng.integers(1, 40)))).isoformat(),
                )
            )
            hazards.append((f"SIM-{i:05d}", as_of, float(hazard[i])))
        leaving = alive & (rng.random(n) < hazard)
        for i in np.flatnonzero(leaving):
            churned_on[i] = as_of + timedelta(days=int(rng.integers(5, 28)))
        alive &= ~leaving
        logins_before = logins.astype(float)
    metrics = pd.DataFrame(
        rows,
        columns=[
            "account_id",
            "as_of",
            "active_users",
            "seats_purchased",
            "logins_30d",
            "features_used",
            "features_total",
            "tickets_30d",
            "nps",
            "mrr",
            "csm_touches_90d",
            "last_touch",
        ],
    )
    segments = np.where(seats > 60, "Enterprise", np.where(seats > 15, "Mid-Market", "SMB"))
    accounts = pd.DataFrame(
        {
            "account_id": [f"SIM-{i:05d}" for i in range(n)],
            "name": [f"Simulated {i:05d}" for i in range(n)],
            "csm_owner": [f"CSM {i % 12:02d}" for i in range(n)],
            "segment": segments,
            "arr": (seats * price * 12).round(),
            "renewal_date": [(START + timedelta(days=int(d))).isoformat() for d in rng.integers(30, 700, n)],
            "churned_on": [d.isoformat() if d else None for d in churned_on],
        }
    )
    truth = pd.DataFrame(hazards, columns=["account_id", "as_of", "hazard"])
    return accounts, metrics, truth


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """ROC AUC of `score` ranking the positives first, ties counted half (Mann–Whitney)."""
    ranks = pd.Series(score).rank().to_numpy()
    positives = label.astype(bool)
    n_pos, n_neg = positives.sum(), (~positives).sum()
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def labelled(observations: pd.DataFrame, accounts: pd.DataFrame, last_day: date) -> pd.DataFrame:
    """Snapshots whose horizon lies inside the data, labelled 1 when the account left within HORIZON days."""
    churn = pd.to_datetime(accounts.set_index("account_id")["churned_on"])
    out = observations.copy()
    out["as_of"] = pd.to_datetime(out["as_of"])
    out = out[out["as_of"] + pd.Timedelta(days=HORIZON) <= pd.Timestamp(last_day)]
    left = out["account_id"].map(churn)
    out["label"] = ((left > out["as_of"]) & (left <= out["as_of"] + pd.Timedelta(days=HORIZON))).astype(int)
    return out


def healthbot(*args: str, db: str, model: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HEALTHBOT_"))}
    env["DATABASE_URL"] = f"sqlite:///{db}"
    if model:
        env["HEALTHBOT_MODEL"] = model
    return subprocess.run(["healthbot", *args], env=env, capture_output=True, text=True, timeout=1800)


def stored_scores(db: str) -> pd.DataFrame:
    with sqlite3.connect(db) as conn:
        return pd.read_sql("select account_id, as_of, score from health_score", conn)


def logistic(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray) -> np.ndarray:
    """A plain L2 logistic regression by Newton steps, standardised on the training rows."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-9
    x = np.c_[np.ones(len(train_x)), (train_x - mean) / std]
    w = np.zeros(x.shape[1])
    for _ in range(30):
        p = 1 / (1 + np.exp(-x @ w))
        grad = x.T @ (p - train_y) + 1e-2 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return np.c_[np.ones(len(test_x)), (test_x - mean) / std] @ w


def observable(frame: pd.DataFrame) -> np.ndarray:
    util = frame["active_users"] / frame["seats_purchased"]
    adoption = frame["features_used"] / frame["features_total"]
    return np.c_[
        util,
        adoption,
        np.log(frame["mrr"]),
        np.log1p(frame["logins_30d"]),
        frame["tickets_30d"],
        frame["nps"].fillna(frame["nps"].mean()),
        frame["nps"].isna(),
        np.log(frame["seats_purchased"]),
        frame["csm_touches_90d"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="keep the files and stores in this folder")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="eval_churn_"))
    folder.mkdir(parents=True, exist_ok=True)
    accounts, metrics, truth = simulate(args.accounts, args.seed)
    accounts.to_csv(folder / "accounts.csv", index=False)
    metrics.to_csv(folder / "metrics.csv", index=False)
    last_day = max(date.fromisoformat(d) for d in metrics["as_of"])
    print(
        f"simulated {len(accounts):,} accounts, {len(metrics):,} snapshots, "
        f"{accounts['churned_on'].notna().sum():,} left"
    )

    db = str(folder / "healthbot.db")
    done = healthbot("import", str(folder / "accounts.csv"), str(folder / "metrics.csv"), db=db)
    if done.returncode != 0:
        sys.exit(f"import failed:\n{done.stdout}\n{done.stderr}")
    scored = healthbot("score", "--history", db=db)
    if scored.returncode != 0:
        sys.exit(f"score --history failed:\n{scored.stdout}\n{scored.stderr}")
    learned_path = folder / "learned.toml"
    report = healthbot("backtest", "--json", "--write-model", str(learned_path), db=db)
    print(f"backtest exit {report.returncode}; {report.stderr.strip().splitlines()[-1] if report.stderr else ''}")
    try:
        figures = json.loads(report.stdout)
    except json.JSONDecodeError:
        figures = {}
        print(report.stdout[-2000:], report.stderr[-2000:])

    observed = labelled(metrics, accounts, last_day)
    dates = sorted(observed["as_of"].unique())
    cut = dates[len(dates) * 2 // 3]
    test = observed["as_of"] >= cut
    print(
        f"observations with a full horizon: {len(observed):,}; test period from {pd.Timestamp(cut).date()}: "
        f"{int(test.sum()):,} ({int(observed.loc[test, 'label'].sum()):,} churned within {HORIZON} days)"
    )

    def model_auc(db_path: str) -> float:
        scores = stored_scores(db_path)
        scores["as_of"] = pd.to_datetime(scores["as_of"])
        joined = observed[test].merge(scores, on=["account_id", "as_of"], how="inner")
        return auc(-joined["score"].to_numpy(), joined["label"].to_numpy())

    results = {"default model": model_auc(db)}
    label = "learned model"
    if not learned_path.exists():
        # Not written (it did not beat the gate): measure the file the backtest proposed all the same.
        proposed = (figures.get("learned") or {}).get("model_file")
        print("no learned model was written" + ("; measuring the one proposed" if proposed else ""))
        if proposed:
            learned_path = folder / "proposed.toml"
            learned_path.write_text(proposed, encoding="utf-8")
            label = "learned model (not written)"
    if learned_path.exists():
        copy = str(folder / "learned.db")
        shutil.copy(db, copy)
        rescored = healthbot("score", "--history", db=copy, model=str(learned_path))
        if rescored.returncode == 0:
            results[label] = model_auc(copy)
        else:
            print("rescoring with the learned model failed:", rescored.stderr[-1000:])
    x = observable(observed)
    y = observed["label"].to_numpy()
    results["plain logistic regression"] = auc(
        logistic(x[~test.to_numpy()], y[~test.to_numpy()], x[test.to_numpy()]), y[test.to_numpy()]
    )
    truth["as_of"] = pd.to_datetime(truth["as_of"])
    hazard = observed[test].merge(truth, on=["account_id", "as_of"])
    results["simulator's own hazard"] = auc(hazard["hazard"].to_numpy(), hazard["label"].to_numpy())
    for name, value in results.items():
        print(f"  {name:<28} AUC {value:.3f}")
    reported = {k: v for k, v in figures.items() if isinstance(v, int | float)}
    if reported:
        print("backtest's own top-level figures:", json.dumps(reported)[:400])
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
