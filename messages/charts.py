"""Charts people would rather look at than read: PNG bytes sized for Slack's image preview.

Headless by construction: every chart is its own `matplotlib.figure.Figure` drawn by the Agg canvas, never pyplot,
so nothing is left behind in global state and a server without a display draws them. Inputs are plain data (small
DataFrames, view models); nothing here reads the store.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from messages import format as fmt
from messages import views

# Slack previews images at about 16:9; 1200×675 stays sharp there and readable once expanded.
WIDTH_PX, HEIGHT_PX = 1200, 675
DPI = 100

# The default model's bands (name, lowest score), best first; pass the model's own to the chart functions.
DEFAULT_BANDS: tuple[tuple[str, float], ...] = (("Green", 80), ("Yellow", 60), ("Red", 0))

TONE_COLOURS = {"green": "#2E7D32", "yellow": "#F2A900", "orange": "#E8710A", "red": "#C62828"}
OTHER_COLOUR = "#7F7F7F"
SCORE_COLOUR = "#1F3864"
DIMENSION_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#8C564B", "#E69F00")

# Sizes in points at 100 dpi: Slack shrinks the preview, so text starts large.
TITLE_SIZE, LABEL_SIZE, TICK_SIZE, NOTE_SIZE = 24, 17, 15, 15

# Matplotlib's text layout and font caches are not thread-safe; Slack listeners draw on worker threads.
_DRAWING = threading.Lock()


def band_colour(band: str, order: Sequence[str] = ()) -> str:
    """The chart colour of a band, by its name or its rank among the model's bands (best first)."""
    tone = fmt.band_tone(band, order)
    return TONE_COLOURS[tone] if tone else OTHER_COLOUR


def account_trend_chart(
    history: pd.DataFrame, *, account: str, bands: Sequence[tuple[str, float]] = DEFAULT_BANDS
) -> bytes:
    """An account's health score and its dimensions over time, on the model's band colours.

    Args:
        history: one row per scoring date: `as_of`, `score`, then one column per dimension named as people
            say it ("Product Usage", "Support", …) holding its score or NaN for no data.
        account: the account's name, for the title.
        bands: the model's bands as (name, lowest score), best first.

    Returns:
        PNG bytes, WIDTH_PX × HEIGHT_PX.
    """
    frame = _dated(history)
    if frame.empty:
        raise ValueError(f"no score history for {account}")
    dimensions = [name for name in frame.columns if name not in ("as_of", "score")]
    with _DRAWING:
        figure = _figure()
        ax = figure.add_axes((0.07, 0.12, 0.66, 0.72))
        _shade_bands(ax, bands, label=True)
        for i, name in enumerate(dimensions):
            ax.plot(
                frame["as_of"],
                frame[name],
                color=DIMENSION_COLOURS[i % len(DIMENSION_COLOURS)],
                linewidth=2.2,
                alpha=0.9,
                label=name,
            )
        ax.plot(
            frame["as_of"],
            frame["score"],
            color=SCORE_COLOUR,
            linewidth=5,
            marker="o",
            markersize=8,
            label="Health score",
        )
        last = frame.iloc[-1]
        ax.annotate(
            f"{last['score']:.0f}",
            (last["as_of"], last["score"]),
            xytext=(0, 14),
            ha="center",
            textcoords="offset points",
            fontsize=LABEL_SIZE + 3,
            fontweight="bold",
            color=SCORE_COLOUR,
        )
        _month_axis(ax, frame["as_of"], every=3)
        _score_axis(ax)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=TICK_SIZE, frameon=False)
        span = _span(frame["as_of"])
        figure.suptitle(f"{account}: health score, {span}", fontsize=TITLE_SIZE, fontweight="bold", x=0.07, ha="left")
        return _png(figure)


def portfolio_distribution_chart(portfolio: views.Portfolio) -> bytes:
    """How a portfolio splits across bands: accounts on the left, ARR on the right, one bar per band.

    Returns:
        PNG bytes, WIDTH_PX × HEIGHT_PX.
    """
    names = [band.band for band in portfolio.bands]
    colours = [band_colour(name, names) for name in names]
    counts = [band.count for band in portfolio.bands]
    arr = [band.arr for band in portfolio.bands]
    with _DRAWING:
        figure = _figure()
        left = figure.add_axes((0.12, 0.1, 0.36, 0.68))
        right = figure.add_axes((0.6, 0.1, 0.36, 0.68))
        positions = np.arange(len(names))
        for ax, values, heading, label in (
            (left, counts, "Accounts", lambda i: f"{counts[i]} ({fmt.pct(portfolio.bands[i].share)})"),
            (right, arr, "ARR", lambda i: fmt.money(arr[i])),
        ):
            ax.barh(positions, values, color=colours, height=0.65)
            ax.set_yticks(positions, names, fontsize=LABEL_SIZE)
            ax.invert_yaxis()  # best band on top, as the card lists them
            ax.set_title(heading, fontsize=LABEL_SIZE + 2, fontweight="bold", loc="left")
            ax.tick_params(axis="x", labelsize=TICK_SIZE)
            top = max(values, default=0) or 1
            ax.set_xlim(0, top * 1.35)  # room for the value labels
            for i, value in enumerate(values):
                ax.text(value + top * 0.02, i, label(i), va="center", fontsize=LABEL_SIZE)
            _tidy(ax)
        right.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: fmt.money(value)))
        average = f" · average {fmt.score(portfolio.average_score)}" if portfolio.average_score is not None else ""
        figure.suptitle(
            f"{portfolio.title}: health distribution", fontsize=TITLE_SIZE, fontweight="bold", x=0.03, ha="left"
        )
        figure.text(
            0.03,
            0.86,
            f"{fmt.count(portfolio.total_accounts, 'account')} · {fmt.money(portfolio.total_arr)} ARR{average}"
            f" · as of {fmt.day(portfolio.as_of)}",
            fontsize=NOTE_SIZE,
            color="#404040",
        )
        return _png(figure)


def segment_trend_chart(
    history: pd.DataFrame,
    *,
    title: str = "Health by segment",
    bands: Sequence[tuple[str, float]] = DEFAULT_BANDS,
    max_panels: int = 6,
) -> bytes:
    """Small multiples: each segment's average health score over time, on the same scale and band colours.

    Args:
        history: one row per segment and date: `segment`, `as_of`, `score` (the segment's average that day).
        title: the chart's title.
        bands: the model's bands as (name, lowest score), best first.
        max_panels: segments beyond this many (the smallest by rows) are left out, so panels stay readable.

    Returns:
        PNG bytes, WIDTH_PX × HEIGHT_PX.
    """
    frame = _dated(history)
    if frame.empty:
        raise ValueError("no segment score history")
    segments = list(frame["segment"].value_counts(sort=True).index[:max_panels])
    segments.sort(key=str)
    columns = min(len(segments), 3)
    rows = math.ceil(len(segments) / columns)
    with _DRAWING:
        figure = _figure()
        grid = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
        figure.subplots_adjust(left=0.07, right=0.97, top=0.8 if rows == 1 else 0.84, bottom=0.14, hspace=0.6)
        for ax, segment in zip(grid.flat, segments, strict=False):
            series = frame[frame["segment"] == segment]
            _shade_bands(ax, bands, label=False)
            ax.plot(series["as_of"], series["score"], color=SCORE_COLOUR, linewidth=4, marker="o", markersize=5)
            last = series.iloc[-1]
            change = last["score"] - series.iloc[0]["score"]
            ax.set_title(
                f"{segment}: {last['score']:.0f} ({fmt.signed(change)})",
                fontsize=LABEL_SIZE + 1,
                fontweight="bold",
                loc="left",
            )
            _month_axis(ax, frame["as_of"], every=6 if columns > 1 else 3, label="%b\n%Y")
            _score_axis(ax, label=False)
        for ax in list(grid.flat)[len(segments) :]:
            ax.set_visible(False)
        span = _span(frame["as_of"])
        figure.suptitle(f"{title}, {span}", fontsize=TITLE_SIZE, fontweight="bold", x=0.03, ha="left")
        return _png(figure)


def _figure() -> Figure:
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No bbox_inches="tight": it would change the pixel size Slack's preview is laid out for.
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _dated(history: pd.DataFrame) -> pd.DataFrame:
    frame = history.copy()
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    return frame.dropna(subset=["score"]).sort_values("as_of", kind="stable")


def _span(dates: pd.Series) -> str:
    months = (dates.max().year - dates.min().year) * 12 + dates.max().month - dates.min().month + 1
    return f"last {months} months" if months > 1 else dates.max().strftime("%b %Y")


def _shade_bands(ax: Axes, bands: Sequence[tuple[str, float]], *, label: bool) -> None:
    names = [name for name, _low in bands]
    ceiling = 100.0
    for name, low in sorted(bands, key=lambda band: band[1], reverse=True):
        colour = band_colour(name, names)
        ax.axhspan(low, ceiling, color=colour, alpha=0.12, linewidth=0, zorder=0)
        if label:
            ax.text(
                0.01,
                ceiling - 1.5,
                name,
                transform=ax.get_yaxis_transform(),
                va="top",
                fontsize=NOTE_SIZE,
                color=colour,
                fontweight="bold",
                zorder=1,
            )
        ceiling = low


def _month_axis(ax: Axes, dates: pd.Series, *, every: int, label: str = "%b %Y") -> None:
    # Ticks on the scoring dates themselves, counted back from the latest so "now" is always labelled.
    ticks = sorted(pd.Series(dates.unique()).sort_values().iloc[::-1].iloc[::every])
    ax.set_xticks(ticks, [tick.strftime(label) for tick in ticks], fontsize=TICK_SIZE)
    _tidy(ax)


def _score_axis(ax: Axes, *, label: bool = True) -> None:
    ax.set_ylim(0, 100)
    ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.tick_params(axis="y", labelsize=TICK_SIZE)
    ax.grid(axis="y", color="#FFFFFF", linewidth=1)
    if label:
        ax.set_ylabel("Score", fontsize=LABEL_SIZE)


def _tidy(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
