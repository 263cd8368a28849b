"""The playbooks file: the seeds' plays as the bot ships them, an operator's own file, and the mistakes it names."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from scoring import ModelError, load_model, parse_model, score_snapshots
from scoring.advice import explain
from scoring.playbooks import PlaybookFileError, find_playbook, load_playbooks, recommended_playbook
from tests.scoring.frames import acme_frames

PLAYBOOKS = load_playbooks()
ONBOARDING = """
[[playbook]]
key = "onboarding"
name = "Onboarding rescue"
recommended_for = ["yellow"]

  [[playbook.stage]]
  name = "Week 1"
  timing = "Days 1–7"
  ends_after_days = 7
  steps = ["Call the admin", "Book a training session"]
"""


def test_the_built_in_file_has_the_seed_playbooks_with_their_stages_and_timings() -> None:
    stages = {p.name: [(s.name, s.timing) for s in p.stages] for p in PLAYBOOKS.values()}
    assert stages == {
        "Red Account Recovery": [
            ("Immediate triage", "Hours 0–24"),
            ("Executive alignment", "Hours 24–48"),
            ("Recovery execution", "Days 3–30"),
            ("Stabilisation", "Days 31–90"),
        ],
        "Churn Risk Response": [("Immediate", "Day 1"), ("Short-term", "Week 1"), ("Medium-term", "Month 1")],
        "Expansion Acceleration": [
            ("Opportunity identification", "Week 1"),
            ("Value story development", "Week 2"),
            ("Strategic engagement", "Weeks 3–4"),
            ("Close and expand", "Month 2"),
        ],
        "Proactive Success": [
            ("Success amplification", "Month 1"),
            ("Relationship expansion", "Month 2"),
            ("Innovation partnership", "Month 3"),
            ("Long-term value", "Months 4–6"),
        ],
    }
    recovery, churn = PLAYBOOKS["red_account_recovery"], PLAYBOOKS["churn_risk_response"]
    assert recovery.step_text("2.1") == "Schedule an executive-to-executive call"
    assert churn.stages[0].steps == (
        "Acknowledge the situation",
        "Schedule a call with key stakeholders",
        "Review account history and health data",
        "Prepare a value realisation report",
    )
    assert churn.stages[2].steps[-1] == "Escalate if no improvement"
    assert [s.ends_after_days for s in recovery.stages] == [1, 2, 30, 90]


def test_recommendation_follows_the_alert_condition_or_band() -> None:
    assert recommended_playbook(PLAYBOOKS, reasons=["turned_red"]) is PLAYBOOKS["red_account_recovery"]
    assert recommended_playbook(PLAYBOOKS, reasons=["score_drop"]) is PLAYBOOKS["churn_risk_response"]
    assert recommended_playbook(PLAYBOOKS, reasons=["Green"]) is PLAYBOOKS["proactive_success"]
    assert recommended_playbook(PLAYBOOKS, reasons=["nothing"]) is None
    assert find_playbook(PLAYBOOKS, "red account recovery") is PLAYBOOKS["red_account_recovery"]


def test_an_own_file_replaces_the_built_in_playbooks(tmp_path: Path) -> None:
    own = tmp_path / "playbooks.toml"
    own.write_text(ONBOARDING, encoding="utf-8")
    (onboarding,) = load_playbooks(own).values()
    assert (onboarding.name, onboarding.recommended_for, onboarding.step_keys) == (
        "Onboarding rescue",
        frozenset({"yellow"}),
        ["1.1", "1.2"],
    )


STAGE = '[[playbook]]\nkey = "x"\nname = "X"\n[[playbook.stage]]\nname = "Now"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"playbook is missing; write one \[\[playbook\]\] table per playbook"),
        ('[[playbooks]]\nkey = "x"\n', "unknown key 'playbooks'; allowed here: playbook"),
        ('[[playbook]]\nkey = "x"\nname = "X"\n', r"playbook 1 \(x\): stage is missing; give the playbook one or more"),
        ('[[playbook]]\nname = "X"\n', "playbook 1: key is missing; it must be text"),
        (
            '[[playbook]]\nkey = "x"\nname = "X"\nstages = []\n',
            "playbook 1: unknown key 'stages'; allowed here: key, name, situation, recommended_for, stage",
        ),
        (STAGE + 'steps = ["Call"]\n', r"playbook 1 \(x\), stage 1: ends_after_days is missing; it is when the steps"),
        (
            STAGE + 'ends_after_days = "soon"\nsteps = ["Call"]\n',
            r"playbook 1 \(x\), stage 1: ends_after_days must be a number from 0 to 3650 \(got 'soon'\)",
        ),
        (STAGE + "ends_after_days = 1\nsteps = []\n", "stage 1: steps must list 1 to 10 steps"),
        (STAGE + f"ends_after_days = 1\nsteps = {[f'Step {n}' for n in range(11)]}\n", "steps must list 1 to 10"),
        (STAGE + "ends_after_days = 1\nsteps = [1, 2]\n", r"steps must be a list of text \(got \[1, 2\]\)"),
        (
            STAGE + 'ends_after_days = 1\nsteps = ["Call"]\ndue = "tomorrow"\n',
            "stage 1: unknown key 'due'; allowed here: name, timing, ends_after_days, steps",
        ),
        (
            STAGE + 'ends_after_days = 30\nsteps = ["Call"]\n[[playbook.stage]]\nname = "Then"\nends_after_days = 7\n'
            'steps = ["Check"]\n',
            "stage 2: ends_after_days is 7, earlier than the stage before",
        ),
        (
            ONBOARDING + ONBOARDING.replace("Onboarding rescue", "Again"),
            r"playbook 2: key 'onboarding' is already used by an earlier playbook",
        ),
        ("[[playbook]\n", "is not a readable TOML file"),
    ],
)
def test_a_broken_file_is_refused_naming_the_key_and_what_is_allowed(tmp_path: Path, text: str, message: str) -> None:
    own = tmp_path / "playbooks.toml"
    own.write_text(text, encoding="utf-8")
    with pytest.raises(PlaybookFileError, match=message) as refused:
        load_playbooks(own)
    assert str(own) in str(refused.value)


def test_a_missing_file_names_the_setting_that_points_at_it(tmp_path: Path) -> None:
    with pytest.raises(PlaybookFileError, match=r"HEALTHBOT_PLAYBOOKS points at .*missing\.toml, which does not exist"):
        load_playbooks(tmp_path / "missing.toml")


def test_the_card_recommends_the_playbook_as_the_playbooks_file_defines_it(tmp_path: Path) -> None:
    built_in = resources.files("scoring").joinpath("playbooks.toml").read_text(encoding="utf-8")
    own = tmp_path / "playbooks.toml"
    own.write_text(built_in.replace('name = "Immediate"', 'name = "Same day"'), encoding="utf-8")
    model = load_model(None, playbooks=load_playbooks(own))
    scored = score_snapshots(*acme_frames(), model)
    card = explain(scored, int(scored.latest_rows()[0]))
    assert card.playbook.name == "Churn Risk Response"
    assert card.playbook.stages[0].name == "Same day"


def test_a_band_naming_a_playbook_the_file_lacks_is_refused(tmp_path: Path) -> None:
    own = tmp_path / "playbooks.toml"
    own.write_text(ONBOARDING, encoding="utf-8")
    with pytest.raises(
        ModelError, match=r"bands\[0\].playbook 'proactive_success' is not in the playbooks file .*allowed: onboarding"
    ):
        load_model(None, playbooks=load_playbooks(own))


def test_a_model_file_no_longer_defines_playbooks() -> None:
    with pytest.raises(ModelError, match=r"playbooks cannot be set in a health model; .* HEALTHBOT_PLAYBOOKS"):
        parse_model('extends = "default"\n[playbooks.x]\nname = "X"\n')
