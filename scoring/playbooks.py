"""The built-in playbooks: the seeds' plays with their stages and timings. A model file may add or replace them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """One stage of a playbook."""

    name: str
    timing: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Playbook:
    """A named play: what to do, in which order, by when."""

    key: str
    name: str
    stages: tuple[Stage, ...]


BUILT_IN_PLAYBOOKS: dict[str, Playbook] = {
    p.key: p
    for p in (
        Playbook(
            "red_account_recovery",
            "Red Account Recovery",
            (
                Stage(
                    "Immediate triage",
                    "hours 0–24",
                    (
                        "Diagnose what caused the health drop",
                        "Review all recent interactions",
                        "Check support tickets and sentiment",
                        "Identify every stakeholder and their status",
                    ),
                ),
                Stage(
                    "Executive alignment",
                    "hours 24–48",
                    (
                        "Schedule an executive-to-executive call",
                        "Prepare a value achievement summary",
                        "Create a recovery proposal",
                        "Align internal resources",
                    ),
                ),
                Stage(
                    "Recovery execution",
                    "days 3–30",
                    (
                        "Daily stand-ups with the account team",
                        "Address technical issues first",
                        "Re-establish the champion relationship",
                        "Demonstrate commitment with resources",
                    ),
                ),
                Stage(
                    "Stabilisation",
                    "days 31–90",
                    (
                        "Monitor the health score weekly",
                        "Bi-weekly check-ins",
                        "Document lessons learned",
                        "Strengthen relationships",
                    ),
                ),
            ),
        ),
        Playbook(
            "churn_risk_response",
            "Churn Risk Response",
            (
                Stage(
                    "Immediate",
                    "day 1",
                    (
                        "Acknowledge the situation",
                        "Schedule a call with key stakeholders",
                        "Review account history and health data",
                        "Prepare a value realisation report",
                    ),
                ),
                Stage(
                    "Short-term",
                    "week 1",
                    (
                        "Run a discovery call",
                        "Identify root causes",
                        "Create an action plan with measurable milestones",
                        "Align executives if needed",
                    ),
                ),
                Stage(
                    "Medium-term",
                    "month 1",
                    (
                        "Implement the improvement plan",
                        "Weekly check-ins",
                        "Track success metrics",
                        "Escalate if there is no improvement",
                    ),
                ),
            ),
        ),
        Playbook(
            "expansion_acceleration",
            "Expansion Acceleration",
            (
                Stage(
                    "Opportunity identification",
                    "week 1",
                    (
                        "Analyse usage patterns and whitespace",
                        "Review stakeholder engagement",
                        "Check budget cycles and timing",
                    ),
                ),
                Stage(
                    "Value story development",
                    "weeks 1–2",
                    (
                        "Generate an ROI report from current usage",
                        "Find similar customer success stories",
                        "Build the expansion business case",
                        "Align with the customer's strategic goals",
                    ),
                ),
                Stage(
                    "Strategic engagement",
                    "weeks 2–4",
                    (
                        "Schedule a growth planning session",
                        "Involve new stakeholders",
                        "Demonstrate advanced capabilities",
                        "Co-create a success plan",
                    ),
                ),
                Stage(
                    "Close and expand",
                    "month 2",
                    (
                        "Present a formal proposal",
                        "Address concerns proactively",
                        "Negotiate win-win terms",
                        "Plan the implementation",
                    ),
                ),
            ),
        ),
        Playbook(
            "proactive_success",
            "Proactive Success",
            (
                Stage(
                    "Success amplification",
                    "this month",
                    (
                        "Document and quantify wins",
                        "Create a customer success story",
                        "Identify advocacy opportunities",
                        "Plan strategic initiatives",
                    ),
                ),
                Stage(
                    "Relationship expansion",
                    "this quarter",
                    (
                        "Map the entire organisation",
                        "Engage new departments",
                        "Build executive relationships",
                        "Create internal champions",
                    ),
                ),
                Stage(
                    "Innovation partnership",
                    "next two quarters",
                    (
                        "Involve them in the product roadmap",
                        "Beta test new features",
                        "Offer speaking opportunities",
                    ),
                ),
                Stage(
                    "Long-term value",
                    "at renewal",
                    (
                        "Propose a multi-year commitment",
                        "Agree reference account status",
                        "Develop a case study",
                    ),
                ),
            ),
        ),
    )
}
