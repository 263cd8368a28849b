"""Model files: the built-in presets, `extends`, and an error naming the key for every mistake a CS ops person makes."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring import ModelError, built_in_models, load_model, parse_model, refined_model_text

MINIMAL = """
[dimensions.usage]
weight = 100
metrics = [{ measure = "seat_utilisation", bad = 0.2, good = 0.8 }]
"""


def test_default_model_is_the_mission_seeds_40_20_20_10_10_with_three_bands() -> None:
    model = load_model(None)
    assert model.weights == {"usage": 40, "support": 20, "financial": 20, "sentiment": 10, "engagement": 10}
    assert [(b.name, b.min) for b in model.bands] == [("Green", 80), ("Yellow", 60), ("Red", 0)]
    assert model.source == "default"


def test_presets_are_named_and_the_csm_preset_carries_its_seed_weights() -> None:
    assert {"default", "four-band", "csm-30-25-20-15-10"} <= set(built_in_models())
    csm = load_model("csm-30-25-20-15-10")
    assert csm.weights == {"usage": 30, "engagement": 25, "support": 20, "business_outcome": 15, "relationship": 10}
    # Signals about the default's switched-off dimensions still fire, without a dimension of their own.
    assert next(r for r in csm.rules if r.key == "payment_overdue").dimension is None


def test_four_band_preset_adds_orange_and_moves_red_below_40() -> None:
    model = load_model("four-band")
    assert [(b.name, b.min) for b in model.bands] == [("Green", 80), ("Yellow", 60), ("Orange", 40), ("Red", 0)]
    assert model.band_ceiling("Red") == 39


def test_weights_that_do_not_add_up_to_100_are_refused_with_the_sum() -> None:
    with pytest.raises(ModelError, match=r"must add up to 100; they add up to 90 \(usage 60, support 30\)"):
        parse_model(
            """
            [dimensions.usage]
            weight = 60
            metrics = [{ measure = "seat_utilisation", bad = 0.2, good = 0.8 }]
            [dimensions.support]
            weight = 30
            metrics = [{ measure = "tickets_30d", good = 2, bad = 12 }]
            """
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL.replace("weight = 100", "wieght = 100"), "unknown key 'dimensions.usage.wieght'"),
        (MINIMAL.replace("seat_utilisation", "seat_util"), r"'seat_util' is not a measure; use one of"),
        (
            MINIMAL.replace("weight = 100", 'weight = "forty"'),
            r"dimensions.usage.weight must be a number from 0 to 100",
        ),
        (MINIMAL.replace("bad = 0.2, good = 0.8", "bad = 0.5, good = 0.5"), "must both be given and differ"),
        (MINIMAL.replace("bad = 0.2, good = 0.8", "points = [[1, 0], [0, 100]]"), "values must increase"),
        ('bands = "five"' + MINIMAL, "bands must be one of 'three', 'four'"),
        (MINIMAL + '[[bands]]\nname = "Good"\nmin = 50\n', "must have a band starting at 0"),
        (MINIMAL + '[signals.x]\nwhen = [["tickets_30d", "=>", 5]]\n', "operator one of < <= > >= == != has"),
        (MINIMAL + '[signals.x]\nwhen = [["tags", ">", 5]]\n', 'write \\["tags", "has", "champion_left"\\]'),
        (MINIMAL + '[signals.x]\nwhen = [["nps", "<", 5]]\nseverity = "Urgent"\n', "must be one of Critical, High"),
        (MINIMAL + '[signals.x]\nwhen = [["nps", "<", 5]]\nforce_band = "Purple"\n', "'Purple' is not a band"),
        (MINIMAL + "[segments.SMB]\nweights = { usage = 90 }\n", r"segments.SMB.weights must add up to 100"),
        (MINIMAL + '[lifecycle.onboarding]\nignore = ["nps"]\n', "'nps' is not a metric of the model"),
        ("[dimensions.usage\nweight = 100", "is not valid TOML"),
    ],
)
def test_each_mistake_names_the_key_and_what_is_allowed(text: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_model(text)


def test_an_unknown_model_name_lists_the_built_in_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no such file, and not a built-in model.*csm-30-25-20-15-10.*default"):
        load_model(str(tmp_path / "missing.toml"))


def test_a_file_extends_the_default_and_changes_only_what_differs(tmp_path: Path) -> None:
    path = tmp_path / "ours.toml"
    path.write_text('extends = "default"\n[dimensions.usage]\nweight = 45\n[dimensions.financial]\nweight = 15\n')
    model = load_model(str(path))
    assert model.weights["usage"] == 45 and model.weights["financial"] == 15
    assert model.source == str(path.resolve())
    assert any(r.key == "usage_drop" for r in model.rules)  # inherited signals


def test_extends_follows_relative_paths_and_refuses_loops(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(MINIMAL)
    (tmp_path / "child.toml").write_text('extends = "base.toml"\nname = "Child"\n')
    assert load_model(str(tmp_path / "child.toml")).name == "Child"
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ModelError, match="loops back"):
        load_model(str(tmp_path / "a.toml"))


def test_a_signal_can_be_switched_off_in_an_extending_file(tmp_path: Path) -> None:
    path = tmp_path / "quiet.toml"
    path.write_text('extends = "default"\n[signals.few_touchpoints]\nenabled = false\n')
    assert "few_touchpoints" not in {r.key for r in load_model(str(path)).rules}


def test_the_refined_model_file_loads_with_its_new_weights(tmp_path: Path) -> None:
    weights = {"usage": 45.0, "support": 20.0, "financial": 15.0, "sentiment": 10.0, "engagement": 10.0}
    text = refined_model_text(load_model(None), weights, notes=["Refined by healthbot backtest"])
    path = tmp_path / "refined.toml"
    path.write_text(text)
    refined = load_model(str(path))
    assert refined.weights == weights
    assert text.startswith("# Refined by healthbot backtest")
