"""Charts are real PNGs of Slack's preview size, with the band colours where the scores would fall."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import matplotlib
import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from messages import charts, views

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONTHS = pd.date_range(end="2026-11-24", periods=13, freq=pd.DateOffset(months=1))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk, which must come first."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def pixels(data: bytes) -> np.ndarray:
    return matplotlib.image.imread(io.BytesIO(data), format="png")


def acme_history() -> pd.DataFrame:
    """Acme Corp from seed 001: 78 a quarter ago, 68 now, usage leading the fall; one month without NPS."""
    history = pd.DataFrame(
        {
            "as_of": MONTHS.date,
            "score": np.linspace(80, 68, 13).round(),
            "Product Usage": np.linspace(75, 55, 13),
            "Support": np.linspace(85, 61, 13),
            "Financial": 85.0,
            "Sentiment": np.linspace(80, 61, 13),
            "Engagement": 72.0,
        }
    )
    history.loc[3, "Sentiment"] = np.nan
    return history


def sarah_portfolio(**overrides: object) -> views.Portfolio:
    fields: dict[str, object] = dict(
        title="Sarah Chen",
        as_of=date(2026, 11, 24),
        total_accounts=32,
        total_arr=1_200_000,
        average_score=74,
        bands=[
            views.BandSummary("Green", 12, 0.38, 485_000, ""),
            views.BandSummary("Yellow", 14, 0.44, 520_000, ""),
            views.BandSummary("Red", 6, 0.18, 195_000, ""),
        ],
        improving=[],
        declining=[],
        stable_count=13,
        renewals=[],
        renewal_arr_at_risk=215_000,
        capacity=None,
        risk_drivers=[],
        expansion_ready=[],
    )
    fields.update(overrides)
    return views.Portfolio(**fields)  # type: ignore[arg-type]


def segment_history(segments: dict[str, tuple[float, float]]) -> pd.DataFrame:
    rows = [
        (segment, month, score)
        for segment, (start, end) in segments.items()
        for month, score in zip(MONTHS, np.linspace(start, end, 13), strict=True)
    ]
    return pd.DataFrame(rows, columns=["segment", "as_of", "score"])


def colour_at(image: np.ndarray, x: float, y: float) -> np.ndarray:
    """The RGB at figure fraction (x, y), y measured from the bottom as matplotlib does."""
    height, width = image.shape[:2]
    return image[int((1 - y) * height), int(x * width), :3]


def test_account_trend_is_a_png_of_slacks_preview_size() -> None:
    data = charts.account_trend_chart(acme_history(), account="Acme Corp")
    assert png_size(data) == (1200, 675)
    assert pixels(data).shape[:2] == (675, 1200)


def test_account_trend_shades_the_bands_where_their_scores_lie() -> None:
    image = pixels(charts.account_trend_chart(acme_history(), account="Acme Corp"))

    # The plot area spans 12%–84% of the height for scores 0–100; no line of Acme's goes below 55 or above 85.
    def at_score(score: float) -> np.ndarray:
        return colour_at(image, 0.4, 0.12 + 0.72 * score / 100)

    red, yellow, green = at_score(25), at_score(62), at_score(95)
    assert red[0] > red[1] and red[0] > red[2]  # reddish
    assert green[1] > green[0] and green[1] > green[2]  # greenish
    assert yellow[0] > yellow[2] and yellow[1] > yellow[2]  # yellowish


def test_account_trend_follows_the_models_own_bands() -> None:
    bands = [("Thriving", 85), ("Steady", 65), ("Wobbly", 40), ("Sinking", 0)]
    image = pixels(charts.account_trend_chart(acme_history(), account="Acme Corp", bands=bands))
    sinking = colour_at(image, 0.4, 0.12 + 0.72 * 0.2)
    thriving = colour_at(image, 0.4, 0.12 + 0.72 * 0.95)
    assert sinking[0] > sinking[1] and thriving[1] > thriving[0]


def test_an_account_without_history_is_refused_by_name() -> None:
    empty = acme_history().iloc[0:0]
    with pytest.raises(ValueError, match="Acme Corp"):
        charts.account_trend_chart(empty, account="Acme Corp")


def test_a_brand_new_account_with_one_score_still_draws() -> None:
    data = charts.account_trend_chart(acme_history().tail(1), account="Newco")
    assert png_size(data) == (1200, 675)


def test_portfolio_distribution_is_a_png_with_each_bands_colour() -> None:
    data = charts.portfolio_distribution_chart(sarah_portfolio())
    assert png_size(data) == (1200, 675)
    image = pixels(data)
    colours = {tuple(np.round(px * 255).astype(int)) for px in image[:, :, :3].reshape(-1, 3)[::7]}
    for hex_colour in (charts.TONE_COLOURS["green"], charts.TONE_COLOURS["yellow"], charts.TONE_COLOURS["red"]):
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, hex_colour


def test_an_empty_portfolio_still_draws() -> None:
    empty = sarah_portfolio(
        total_accounts=0,
        total_arr=0,
        average_score=None,
        bands=[views.BandSummary(name, 0, 0.0, 0.0, "") for name in ("Green", "Yellow", "Red")],
    )
    assert png_size(charts.portfolio_distribution_chart(empty)) == (1200, 675)


@pytest.mark.parametrize("count", [1, 3, 5, 9])
def test_segment_small_multiples_are_pngs_for_any_number_of_segments(count: int) -> None:
    history = segment_history({f"Segment {i}": (60 + i, 70 - i) for i in range(count)})
    assert png_size(charts.segment_trend_chart(history)) == (1200, 675)


def test_band_colour_ranks_unknown_names_from_green_to_red() -> None:
    order = ["Thriving", "Steady", "Wobbly", "Sinking"]
    assert charts.band_colour("Thriving", order) == charts.TONE_COLOURS["green"]
    assert charts.band_colour("Sinking", order) == charts.TONE_COLOURS["red"]
    assert charts.band_colour("Mystery") == charts.OTHER_COLOUR


def test_charts_drawn_at_once_on_worker_threads_are_all_whole() -> None:
    jobs = [lambda: charts.account_trend_chart(acme_history(), account="Acme Corp")] * 3 + [
        lambda: charts.portfolio_distribution_chart(sarah_portfolio())
    ] * 3
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: job(), jobs))
    assert all(png_size(data) == (1200, 675) for data in results)


def test_drawing_leaves_matplotlibs_global_settings_and_pyplot_alone() -> None:
    before = dict(matplotlib.rcParams)
    charts.segment_trend_chart(segment_history({"Enterprise": (78, 66)}))
    assert dict(matplotlib.rcParams) == before

    # In a fresh interpreter: drawing never imports pyplot (and so never needs a display).
    code = (
        "import sys, pandas as pd\n"
        "from messages import charts\n"
        "charts.account_trend_chart(pd.DataFrame({'as_of': ['2026-11-24'], 'score': [68.0]}), account='A')\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"PATH": ""})
