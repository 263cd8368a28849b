"""The health model: a TOML file that says which dimensions, metrics, weights, bands and signals make a score.

`load_model(None)` gives the built-in default; `load_model("csm-30-25-20-15-10")` a built-in preset by name;
`load_model("path/to/model.toml")` a file. Every mistake in a file is a `ModelError` that names the key and what
is allowed. See scoring/models/default.toml for the format, documented in its header.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from scoring.measures import CATALOGUE, parse_measure
from scoring.playbooks import Playbook, load_playbooks
from scoring.tomlfile import TomlTable

SEVERITIES = ("Critical", "High", "Medium", "Low")
OPERATORS = ("<", "<=", ">", ">=", "==", "!=", "has")
RuleKind = Literal["risk", "interpretation", "expansion"]
_RULE_TABLES: dict[str, RuleKind] = {"signals": "risk", "interpretations": "interpretation", "expansion": "expansion"}
_MAX_EXTENDS = 5


class ModelError(ValueError):
    """A health-model file is wrong; the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class MetricRule:
    """How one measure becomes a 0–100 sub-score inside a dimension."""

    measure: str
    weight: float = 1.0
    points: tuple[tuple[float, float], ...] = ()  # (value, score), values increasing: piecewise-linear
    values: tuple[tuple[str, float], ...] = ()  # text or tag → score
    otherwise: float | None = None  # score when none of `values` applies; None = no data


@dataclass(frozen=True)
class Dimension:
    """A dimension of health (Product Usage, Support, …): its weight and the metrics averaged into it."""

    key: str
    name: str
    weight: float  # of 100
    metrics: tuple[MetricRule, ...]
    risk: str  # how a weak dimension is named as a risk driver: "Low product usage"
    action: str  # what to do when it is weak: "Address usage decline"
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Band:
    """A status band: accounts scoring at least `min` (and below the band above) fall in it."""

    name: str
    min: float
    meaning: str
    focus: str
    playbook: str
    action: str
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Condition:
    """One test of a rule: `measure op value`, e.g. tickets_30d > 5. Missing data never passes."""

    measure: str
    op: str
    value: float | str


@dataclass(frozen=True)
class Rule:
    """An early-warning signal, an advisor's interpretation or an expansion signal: all its conditions hold."""

    key: str
    kind: RuleKind
    title: str
    when: tuple[Condition, ...]
    severity: str
    response_time: str | None = None
    impact: str | None = None
    meaning: str | None = None  # the interpretation in words
    opportunity: str | None = None  # expansion: "Seat expansion", "Tier upgrade"
    dimension: str | None = None  # the dimension it speaks about, for actions and risk drivers
    action: str | None = None
    steps: tuple[str, ...] = ()
    force_band: str | None = None  # e.g. "Red": the score is capped at the top of that band

    @property
    def needs_history(self) -> bool:
        return any(parse_measure(c.measure).needs_history for c in self.when)


@dataclass(frozen=True)
class Override:
    """Weights and ignored metrics for one segment or one lifecycle stage."""

    weights: tuple[tuple[str, float], ...] = ()
    ignore: frozenset[str] = frozenset()


@dataclass(frozen=True)
class HealthModel:
    """A validated health model."""

    name: str
    source: str  # the built-in name or the file's absolute path, for `extends` in refined models
    dimensions: tuple[Dimension, ...]
    bands: tuple[Band, ...]  # highest first; the last one starts at 0
    rules: tuple[Rule, ...]
    segments: dict[str, Override] = field(default_factory=dict)  # keys lower-cased
    lifecycle: dict[str, Override] = field(default_factory=dict)  # keys lower-cased
    playbooks: dict[str, Playbook] = field(default_factory=load_playbooks)  # the playbooks file's, by key
    healthy_span: int = 3
    renewal_window_days: int = 90
    expansion_min_score: float = 70.0
    stable_points: float = 3.0
    goal_days: int = 30
    goal_points: float = 7.0
    fingerprint: str = ""  # a hash of the resolved model's content: scores remember which model made them

    @property
    def label(self) -> str:
        """The model's name and content hash, as scores store it: "Default (…) · 3fa2c1d09b8e"."""
        return f"{self.name} · {self.fingerprint}" if self.fingerprint else self.name

    @property
    def weights(self) -> dict[str, float]:
        """Dimension key → weight (of 100)."""
        return {d.key: d.weight for d in self.dimensions}

    def dimension(self, key: str) -> Dimension:
        return next(d for d in self.dimensions if d.key == key)

    def band(self, name: str) -> Band:
        return next(b for b in self.bands if b.name == name)

    def band_for(self, score: float) -> Band:
        """The band a (displayed, rounded) score falls in."""
        shown = round(score)
        return next((b for b in self.bands if shown >= b.min), self.bands[-1])

    @property
    def lowest_band(self) -> Band:
        return self.bands[-1]

    @property
    def top_band(self) -> Band:
        return self.bands[0]

    @property
    def at_risk_bands(self) -> list[str]:
        """The bands that make an account "at risk", lowest first — the seeds' reading: with three bands Yellow
        ("At Risk") and Red, with four Orange ("At risk, intervention required") and Red, with two the lower one."""
        lowest_first = [band.name for band in reversed(self.bands)]
        return lowest_first[:2] if len(lowest_first) >= 3 else lowest_first[:1]

    def band_ceiling(self, name: str) -> float:
        """The highest score still in band `name` (59 for Red when Yellow starts at 60)."""
        index = [b.name for b in self.bands].index(name)
        return 100.0 if index == 0 else self.bands[index - 1].min - 1


# --- the three band schemes a file can name ------------------------------------------------------------------
_GREEN = Band(
    "Green",
    80,
    "Healthy, low risk",
    "Expansion opportunities, advocacy cultivation",
    "proactive_success",
    "Grow the relationship",
    ("Document wins and share them with the sponsor", "Look for expansion use cases", "Invite them to advocacy"),
)
_YELLOW = Band(
    "Yellow",
    60,
    "At risk, requires attention",
    "Stabilisation, health improvement, risk mitigation",
    "churn_risk_response",
    "Stabilise the account",
    ("Review health data with the champion", "Agree one improvement goal for the month", "Check in weekly"),
)
_RED_STEPS = ("Call the sponsor within 24 hours", "Run the recovery playbook", "Escalate internally for resources")
BAND_SCHEMES: dict[str, tuple[Band, ...]] = {
    "three": (
        _GREEN,
        _YELLOW,
        Band(
            "Red",
            0,
            "Critical risk, immediate intervention needed",
            "Save plays, executive escalation, intensive support",
            "red_account_recovery",
            "Run a save play",
            _RED_STEPS,
        ),
    ),
    "four": (
        Band(_GREEN.name, 80, "Thriving, expansion ready", _GREEN.focus, _GREEN.playbook, _GREEN.action, _GREEN.steps),
        Band("Yellow", 60, "Stable, needs attention", _YELLOW.focus, _YELLOW.playbook, _YELLOW.action, _YELLOW.steps),
        Band(
            "Orange",
            40,
            "At risk, intervention required",
            "Intervention plans, root-cause fixes",
            "churn_risk_response",
            "Intervene now",
            ("Diagnose the root cause this week", "Agree a recovery plan with the customer", "Check in weekly"),
        ),
        Band(
            "Red",
            0,
            "Critical, executive escalation",
            "Save plays, executive escalation, intensive support",
            "red_account_recovery",
            "Run a save play",
            _RED_STEPS,
        ),
    ),
}


# --- loading -----------------------------------------------------------------------------------------------
def built_in_models() -> list[str]:
    """The names of the built-in models (the files in scoring/models)."""
    folder = resources.files("scoring") / "models"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load_model(path_or_name: str | None, *, playbooks: Mapping[str, Playbook] | None = None) -> HealthModel:
    """Load and validate a health model: None → the built-in default, a built-in name, or a TOML file path.

    Its bands name their playbooks by key in `playbooks` (the playbooks file's; the built-in one when None).

    Raises:
        ModelError: the file is missing or wrong, or a band names a playbook `playbooks` lacks; the message names
            the key and what is allowed.
    """
    raw, source = _read_resolved(path_or_name or "default", base=None, seen=())
    return _build(raw, source=source, where=f"health model '{path_or_name or 'default'}'", playbooks=playbooks)


def parse_model(text: str, *, source: str = "inline", playbooks: Mapping[str, Playbook] | None = None) -> HealthModel:
    """Validate a model given as TOML text (tests, the backtest's refined model)."""
    where = f"health model '{source}'"
    raw = _parse_toml(text, where)
    if "extends" in raw:
        raw = _merge(_read_parent(raw.pop("extends"), child=source, folder=None, seen=(source,)), raw)
    return _build(raw, source=source, where=where, playbooks=playbooks)


def _parse_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ModelError(f"{where} is not valid TOML: {err}") from err


def _read_resolved(ref: str, *, base: Path | None, seen: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    """Read a model file or built-in by name, following `extends` (tables merge, other values replace)."""
    if len(seen) > _MAX_EXTENDS:
        raise ModelError(f"health model '{seen[0]}': `extends` goes more than {_MAX_EXTENDS} files deep")
    text, source, folder = _locate(ref, base)
    if source in seen:
        raise ModelError(f"health model '{seen[0]}': `extends` loops back to '{ref}'")
    raw = _parse_toml(text, f"health model '{ref}'")
    parent_ref = raw.pop("extends", None)
    if parent_ref is None:
        return raw, source
    parent = _read_parent(parent_ref, child=ref, folder=folder, seen=(*seen, source))
    return _merge(parent, raw), source


def _read_parent(parent_ref: object, *, child: str, folder: Path | None, seen: tuple[str, ...]) -> dict[str, Any]:
    """The model `extends` names, or an error naming the file that says `extends` and what it may name."""
    name = _text(parent_ref, "extends", f"health model '{child}'")
    if name not in built_in_models() and not _exists(name, folder):
        raise ModelError(
            f"health model '{child}': extends = '{name}' is neither a file (paths are relative to this file) "
            f"nor a built-in model; built-ins: {', '.join(built_in_models())}"
        )
    return _read_resolved(name, base=folder, seen=seen)[0]


def _exists(ref: str, base: Path | None) -> bool:
    path = Path(ref).expanduser()
    return (path if path.is_absolute() or base is None else base / path).is_file()


def _locate(ref: str, base: Path | None) -> tuple[str, str, Path | None]:
    names = built_in_models()
    if ref in names:
        return (resources.files("scoring") / "models" / f"{ref}.toml").read_text(encoding="utf-8"), ref, None
    path = Path(ref).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        raise ModelError(
            f"health model '{ref}': no such file, and not a built-in model. "
            f"Give a path to a .toml model file or one of: {', '.join(names)}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ModelError(f"health model '{ref}' cannot be read: {err}") from err
    return text, str(path.resolve()), path.resolve().parent


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# --- validation --------------------------------------------------------------------------------------------
class _Table(TomlTable):
    error = ModelError


_TOP_KEYS = (
    "name",
    "description",
    "bands",
    "dimensions",
    "segments",
    "lifecycle",
    "signals",
    "interpretations",
    "expansion",
    "portfolio",
    "trend",
    "goal",
)


def _text(value: object, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"{where}: {key} must be non-empty text (got {value!r})")
    return value.strip()


class _Problems:
    """Every problem of a model file, gathered so the operator fixes them all in one pass instead of one a run."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    @contextmanager
    def each(self) -> Iterator[None]:
        """Check one independent part (a band, a dimension, a signal…); its problem is noted and checking goes on."""
        try:
            yield
        except ModelError as err:
            self.lines.extend(str(err).splitlines())

    def raise_any(self) -> None:
        if len(self.lines) == 1:
            raise ModelError(self.lines[0])
        if self.lines:
            listed = "\n".join(f"  - {line}" for line in self.lines)
            raise ModelError(f"{len(self.lines)} problems in the health model:\n{listed}")


def _build(raw: dict[str, Any], *, source: str, where: str, playbooks: Mapping[str, Playbook] | None) -> HealthModel:
    problems = _Problems()
    top = _Table(raw, "", where)
    with problems.each():
        if "playbooks" in raw:
            # Playbooks once lived in model files too; one file now feeds the card, the plan and the checklists.
            raise top.fail(
                "playbooks",
                "cannot be set in a health model; put playbooks in a playbooks file (a copy of the built-in "
                "scoring/playbooks.toml) and point HEALTHBOT_PLAYBOOKS at it",
            )
    with problems.each():
        top.allow(*_TOP_KEYS)
    name = source
    with problems.each():
        name = top.text("name", default=source) or source
        top.text("description")
    bands: tuple[Band, ...] = ()
    with problems.each():
        bands = _bands(top, where)
    band_names = [b.name for b in bands] if bands else None  # None: the bands are wrong, so don't check names
    dimensions: list[Dimension] = []
    broken: dict[str, Any] = {}  # dimensions with a problem: still known by key, so nothing else is blamed for them
    with problems.each():
        for key, t in top.tables("dimensions"):
            with problems.each():
                broken[key] = t.data
                dimensions.append(_dimension(key, t))
                del broken[key]
    if not broken:
        with problems.each():
            _check_weights({d.key: d.weight for d in dimensions}, "dimensions.<key>.weight", where)
    active = tuple(d for d in dimensions if d.weight > 0)
    metric_measures = {m.measure for d in active for m in d.metrics} | {
        str(m.get("measure")) for data in broken.values() for m in data.get("metrics") or [] if isinstance(m, dict)
    }
    overrides: dict[str, dict[str, Override]] = {"segments": {}, "lifecycle": {}}
    for table, found in overrides.items():
        with problems.each():
            for k, t in top.tables(table):
                with problems.each():
                    found[k.strip().lower()] = _override(t, active, metric_measures, unchecked=set(broken))
    rules: list[Rule] = []
    for table, kind in _RULE_TABLES.items():
        with problems.each():
            for key, t in top.tables(table):
                with problems.each():
                    rule = _rule(key, kind, t, {d.key for d in dimensions} | set(broken), band_names)
                    if rule is not None:
                        # A signal about a dimension switched off (weight 0) still fires; it just has no dimension.
                        inactive = rule.dimension is not None and rule.dimension not in {d.key for d in active}
                        rules.append(replace(rule, dimension=None) if inactive else rule)
    playbooks = dict(load_playbooks() if playbooks is None else playbooks)
    for i, band in enumerate(bands):
        if band.playbook not in playbooks:
            problems.lines.append(
                f"{where}: bands[{i}].playbook '{band.playbook}' is not in the playbooks file "
                f"(HEALTHBOT_PLAYBOOKS, else the built-in one); allowed: {', '.join(sorted(playbooks))}"
            )
    numbers: dict[str, float] = {}
    for section, keys in _NUMBERS.items():
        with problems.each():
            part = _Table(top.get(section) or {}, section, where)
            part.allow(*keys)
            for key, (default, low, high) in keys.items():
                with problems.each():
                    numbers[f"{section}.{key}"] = part.number(key, default, low=low, high=high)
    problems.raise_any()
    return HealthModel(
        name=name,
        source=source,
        dimensions=active,
        bands=bands,
        rules=tuple(rules),
        segments=overrides["segments"],
        lifecycle=overrides["lifecycle"],
        playbooks=playbooks,
        healthy_span=int(numbers["portfolio.healthy_span"]),
        renewal_window_days=int(numbers["portfolio.renewal_window_days"]),
        expansion_min_score=numbers["portfolio.expansion_min_score"],
        stable_points=numbers["trend.stable_points"],
        goal_days=int(numbers["goal.days"]),
        goal_points=numbers["goal.points"],
        fingerprint=_fingerprint(raw, playbooks),
    )


# The model's plain numbers by section: key → (default, lowest, highest).
_NUMBERS: dict[str, dict[str, tuple[float, float, float]]] = {
    "portfolio": {
        "healthy_span": (3, 1, 1000),
        "renewal_window_days": (90, 1, 730),
        "expansion_min_score": (70, 0, 100),
    },
    "trend": {"stable_points": (3, 0, 50)},
    "goal": {"days": (30, 1, 365), "points": (7, 1, 100)},
}


def _fingerprint(raw: dict[str, Any], playbooks: Mapping[str, Playbook]) -> str:
    """12 hex digits of a SHA-256 over the resolved model (after `extends`) and the playbooks it names: the same
    content gives the same hash whatever the file is called or how it is laid out."""
    content = json.dumps([raw, sorted(playbooks)], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()[:12]


def _check_weights(weights: dict[str, float], key: str, where: str) -> None:
    total = sum(weights.values())
    if not weights or not math.isclose(total, 100, abs_tol=1e-6):
        listed = ", ".join(f"{k} {v:g}" for k, v in weights.items()) or "none"
        raise ModelError(f"{where}: {key} must add up to 100; they add up to {total:g} ({listed})")


def _bands(top: _Table, where: str) -> tuple[Band, ...]:
    value = top.get("bands")
    if value is None:
        return BAND_SCHEMES["three"]
    if isinstance(value, str):
        if value not in BAND_SCHEMES:
            raise top.fail("bands", f"must be one of {', '.join(map(repr, BAND_SCHEMES))} or a [[bands]] list")
        return BAND_SCHEMES[value]
    if not isinstance(value, list) or not value:
        raise top.fail("bands", "must be 'three', 'four' or a [[bands]] list of {name, min}")
    bands: list[Band] = []
    for i, entry in enumerate(value):
        t = _Table(entry, f"bands[{i}]", where)
        t.allow("name", "min", "meaning", "focus", "playbook", "action", "steps")
        name = t.text("name", required=True) or ""
        band = Band(
            name=name,
            min=t.number("min", math.nan, low=0, high=100),
            meaning=t.text("meaning", default="") or "",
            focus=t.text("focus", default="") or "",
            playbook=t.text("playbook", default="churn_risk_response") or "",
            action=t.text("action", default=f"Act on the {name} account") or "",
            steps=t.strings("steps"),
        )
        if math.isnan(band.min):
            raise t.fail("min", "is missing; it is the lowest score in the band, 0–100")
        bands.append(band)
    bands.sort(key=lambda b: -b.min)
    names = [b.name for b in bands]
    if len(set(names)) != len(names):
        raise top.fail("bands", f"has a band name twice ({', '.join(names)})")
    if len({b.min for b in bands}) != len(bands):
        raise top.fail("bands", "has two bands starting at the same score")
    if bands[-1].min != 0:
        raise top.fail(
            "bands", f"must have a band starting at 0 so every score has a band (lowest is {bands[-1].min:g})"
        )
    return tuple(bands)


def _dimension(key: str, t: _Table) -> Dimension:
    t.allow("name", "weight", "metrics", "risk", "action", "steps")
    weight = t.number("weight", math.nan, low=0, high=100)
    if math.isnan(weight):
        raise t.fail("weight", "is missing; give the dimension's share of 100 (0 switches it off)")
    raw_metrics = t.get("metrics")
    if not isinstance(raw_metrics, list) or not raw_metrics:
        raise t.fail("metrics", "must be a non-empty list of { measure = ..., bad = ..., good = ... }")
    name = t.text("name", default=key.replace("_", " ").title()) or key
    dimension = Dimension(
        key=key,
        name=name,
        weight=weight,
        metrics=tuple(_metric(_Table(m, f"{t.key('metrics')}[{i}]", t.where)) for i, m in enumerate(raw_metrics)),
        risk=t.text("risk", default=f"Low {name.lower()}") or "",
        action=t.text("action", default=f"Improve {name.lower()}") or "",
        steps=t.strings("steps"),
    )
    return dimension


def _metric(t: _Table) -> MetricRule:
    t.allow("measure", "weight", "bad", "good", "points", "values", "otherwise")
    measure = t.text("measure", required=True) or ""
    try:
        parsed = parse_measure(measure)
    except ValueError as err:
        raise t.fail("measure", str(err)) from err
    if parsed.needs_history:
        raise t.fail("measure", f"'{measure}' is known only after scoring, so it cannot be part of the score")
    weight = t.number("weight", 1.0, low=0, high=1000)
    shapes = [k for k in ("points", "values") if t.data.get(k) is not None]
    if "bad" in t.data or "good" in t.data:
        shapes.append("bad/good")
    if len(shapes) != 1:
        raise t.fail(
            "measure",
            f"'{measure}' needs exactly one of: bad + good, points, values (has {', '.join(shapes) or 'none'})",
        )
    rule = MetricRule(measure=measure, weight=weight)
    if shapes == ["values"]:
        if parsed.numeric:
            raise t.fail("values", f"is for text and tags; '{measure}' is a number, so use bad + good or points")
        values = t.get("values")
        if not isinstance(values, dict) or not values:
            raise t.fail("values", "must be a table such as { upgrade = 100, downgrade = 0 }")
        pairs = []
        for k, v in values.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 100:
                raise t.fail(f"values.{k}", f"must be a score from 0 to 100 (got {v!r})")
            pairs.append((k.strip().lower(), float(v)))
        otherwise = None if t.get("otherwise") is None else t.number("otherwise", 0, low=0, high=100)
        rule = MetricRule(measure, weight, values=tuple(pairs), otherwise=otherwise)
    else:
        if t.get("otherwise") is not None:
            raise t.fail("otherwise", "goes with values = { ... }; a number measure with no data simply has no data")
        if not parsed.numeric:
            raise t.fail("measure", f"'{measure}' is text; score it with values = {{ ... }}")
        rule = MetricRule(measure, weight, points=_points(t))
    return rule


def _points(t: _Table) -> tuple[tuple[float, float], ...]:
    if t.data.get("points") is None:
        bad = t.number("bad", math.nan, low=-1e12, high=1e12)
        good = t.number("good", math.nan, low=-1e12, high=1e12)
        if math.isnan(bad) or math.isnan(good) or bad == good:
            raise t.fail("bad", "and good must both be given and differ (the value scoring 0, the value scoring 100)")
        return tuple(sorted(((bad, 0.0), (good, 100.0))))
    raw = t.get("points")
    ok = isinstance(raw, list) and len(raw) >= 2
    ok = ok and all(
        isinstance(p, list)
        and len(p) == 2
        and all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in p)
        and 0 <= p[1] <= 100
        for p in raw
    )
    if not ok:
        raise t.fail(
            "points",
            "must be a list of [value, score] pairs of finite numbers, score 0–100, e.g. [[0.2, 0], [0.8, 100]]",
        )
    pairs = tuple((float(v), float(s)) for v, s in raw)
    if any(b[0] <= a[0] for a, b in itertools.pairwise(pairs)):
        raise t.fail("points", "values must increase from one pair to the next")
    return pairs


def _override(
    t: _Table,
    dimensions: tuple[Dimension, ...],
    metric_measures: set[str],
    *,
    unchecked: frozenset[str] | set[str] = frozenset(),
) -> Override:
    t.allow("weights", "ignore")
    weights: dict[str, float] = {}
    for key, value in (t.get("weights") or {}).items():
        if key in unchecked:
            continue  # a dimension with its own problem, already reported
        if key not in {d.key for d in dimensions}:
            raise t.fail(f"weights.{key}", f"is not a dimension; allowed: {', '.join(d.key for d in dimensions)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            raise t.fail(f"weights.{key}", f"must be a number from 0 to 100 (got {value!r})")
        weights[key] = float(value)
    if weights and not unchecked:
        missing = [d.key for d in dimensions if d.key not in weights]
        if missing:
            raise t.fail("weights", f"must give every dimension a weight; missing: {', '.join(missing)}")
        _check_weights(weights, t.key("weights"), t.where)
    ignore = t.strings("ignore")
    for measure in ignore:
        if measure not in metric_measures:
            raise t.fail(
                "ignore", f"'{measure}' is not a metric of the model; allowed: {', '.join(sorted(metric_measures))}"
            )
    return Override(tuple(weights.items()), frozenset(ignore))


def _condition(raw: object, path: str, t: _Table) -> Condition:
    if not isinstance(raw, list) or len(raw) != 3 or not isinstance(raw[0], str) or raw[1] not in OPERATORS:
        raise t.fail(
            path, f"must be [measure, operator, value] with operator one of {' '.join(OPERATORS)} (got {raw!r})"
        )
    measure, op, value = raw
    try:
        parsed = parse_measure(measure)
    except ValueError as err:
        raise t.fail(path, str(err)) from err
    if parsed.unit == "tags":
        if op != "has" or not isinstance(value, str):
            raise t.fail(path, f'tests tags, so write ["tags", "has", "champion_left"] (got {raw!r})')
        return Condition(measure, op, value.strip().lower())
    if op == "has":
        raise t.fail(path, f"'has' is for tags only; '{measure}' is {parsed.unit}")
    if not parsed.numeric:
        if op not in ("==", "!=") or not isinstance(value, str):
            raise t.fail(path, f"'{measure}' is text, so compare it with == or != and a text value (got {raw!r})")
        return Condition(measure, op, value.strip().lower())
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise t.fail(path, f"'{measure}' is a number, so the value must be a finite number (got {value!r})")
    return Condition(measure, op, float(value))


def _rule(key: str, kind: RuleKind, t: _Table, dimension_keys: set[str], band_names: list[str] | None) -> Rule | None:
    t.allow(
        *("title", "when", "severity", "response_time", "impact", "meaning", "opportunity", "dimension"),
        *("action", "steps", "force_band", "enabled"),
    )
    enabled = t.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise t.fail("enabled", f"must be true or false (got {enabled!r})")
    when = t.get("when")
    if not isinstance(when, list) or not when:
        raise t.fail("when", 'must be a list of conditions such as [["tickets_30d", ">", 5]]')
    conditions = tuple(_condition(c, f"when[{i}]", t) for i, c in enumerate(when))
    default_severity = {"risk": "Medium", "interpretation": "Medium", "expansion": "Low"}[kind]
    severity = t.text("severity", default=default_severity) or default_severity
    if severity not in SEVERITIES:
        raise t.fail("severity", f"must be one of {', '.join(SEVERITIES)} (got {severity!r})")
    dimension = t.text("dimension")
    if dimension is not None and dimension not in dimension_keys:
        raise t.fail("dimension", f"'{dimension}' is not a dimension; allowed: {', '.join(sorted(dimension_keys))}")
    force_band = t.text("force_band")
    if force_band is not None and band_names is not None and force_band not in band_names:
        raise t.fail("force_band", f"'{force_band}' is not a band; allowed: {', '.join(band_names)}")
    rule = Rule(
        key=key,
        kind=kind,
        title=t.text("title", default=key.replace("_", " ").capitalize()) or key,
        when=conditions,
        severity=severity,
        response_time=t.text("response_time"),
        impact=t.text("impact"),
        meaning=t.text("meaning"),
        opportunity=t.text("opportunity"),
        dimension=dimension,
        action=t.text("action"),
        steps=t.strings("steps"),
        force_band=force_band,
    )
    if rule.force_band and rule.needs_history:
        raise t.fail("force_band", "cannot be used on a signal that tests the score itself")
    if kind == "expansion" and rule.opportunity is None:
        raise t.fail("opportunity", 'is missing; say what to offer, e.g. "Seat expansion"')
    return None if enabled is False else rule


def refined_model_text(model: HealthModel, weights: dict[str, float], *, notes: list[str]) -> str:
    """A model file that extends `model` and changes only its dimension weights (the backtest's refinement)."""
    lines = [f"# {note}" for note in notes]
    lines += ["# Point HEALTHBOT_MODEL at this file to use it. Weights must add up to 100.", ""]
    lines.append(f"extends = {json.dumps(model.source)}")
    lines.append(f"name = {json.dumps(model.name + ' (refined by backtest)')}")
    for key, weight in weights.items():
        lines += ["", f"[dimensions.{key}]", f"weight = {weight:g}"]
    return "\n".join(lines) + "\n"


__all__ = [
    "CATALOGUE",
    "OPERATORS",
    "SEVERITIES",
    "Band",
    "Condition",
    "Dimension",
    "HealthModel",
    "MetricRule",
    "ModelError",
    "Override",
    "Rule",
    "built_in_models",
    "load_model",
    "parse_model",
    "refined_model_text",
]
