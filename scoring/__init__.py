"""The health model and everything computed from it: pure pandas, metrics frames in, scores and insights out.

Nothing here knows about Slack, the store or the rest of the bot. Start with `load_model` and `score_snapshots`.
"""

from scoring.advice import Explanation, Goal, Recommendation, diagnose_drop, explain, recommend_actions
from scoring.findings import Finding, findings_at, findings_by_row
from scoring.model import HealthModel, ModelError, built_in_models, load_model, parse_model, refined_model_text
from scoring.score import Scored, band_categories, score_snapshots

__all__ = [
    "Explanation",
    "Finding",
    "Goal",
    "HealthModel",
    "ModelError",
    "Recommendation",
    "Scored",
    "band_categories",
    "built_in_models",
    "diagnose_drop",
    "explain",
    "findings_at",
    "findings_by_row",
    "load_model",
    "parse_model",
    "recommend_actions",
    "refined_model_text",
    "score_snapshots",
]
