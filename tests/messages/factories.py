"""Hand-made view models shaped like the seeds' worked examples, for renderer tests."""

from __future__ import annotations

from datetime import date, datetime

from messages import views

AS_OF = date(2026, 11, 24)


def ref(name: str, score: float, band: str, arr: float = 45_000, **extra: object) -> views.AccountRef:
    return views.AccountRef(
        account_id=f"ACCT-{abs(hash(name)) % 10_000:04d}",
        name=name,
        csm_owner="Sarah Chen",
        score=score,
        band=band,
        arr=arr,
        **extra,  # type: ignore[arg-type]
    )


def acme_card(**overrides: object) -> views.HealthCard:
    fields: dict[str, object] = dict(
        account_id="ACCT-4521",
        name="Acme Corp",
        csm_owner="Sarah Chen",
        csm_slack_id="U0SARAH001",
        segment="Mid-Market",
        arr=45_000.0,
        renewal_date=date(2027, 3, 31),
        days_to_renewal=127,
        as_of=AS_OF,
        score=68.0,
        band="Yellow",
        confidence=0.9,
        trend=views.Trend(
            vs_last_month=-3,
            vs_last_quarter=-10,
            last_month_score=71,
            last_quarter_score=78,
            direction="declining",
            velocity=-3.3,
        ),
        dimensions=[
            views.Dimension(
                "usage",
                "Product Usage",
                55,
                "Red",
                0.4,
                ["12 of 25 seats active (48%)", "4 of 12 key features used (33%)"],
                "down 18 points vs last quarter",
            ),
            views.Dimension(
                "support",
                "Support",
                61,
                "Yellow",
                0.2,
                ["8 tickets in 30 days vs 3 avg", "1 escalation in 90 days", "CSAT 3.2/5"],
            ),
            views.Dimension("financial", "Financial", 85, "Green", 0.2, ["Paid on time"]),
            views.Dimension("sentiment", "Sentiment", 61, "Yellow", 0.1, ["NPS 6 (down from 8)"]),
            views.Dimension(
                "engagement", "Engagement", 72, "Yellow", 0.1, ["6 CSM touches in 90 days", "Last QBR 45 days ago"]
            ),
        ],
        risks=[
            views.Signal(
                "usage_drop",
                "Usage decline",
                "High",
                "risk",
                "24 hours",
                ["48% seat utilisation (down from 68%)"],
                "Low perceived value, renewal risk",
            ),
            views.Signal(
                "ticket_spike",
                "Product satisfaction issues",
                "Medium",
                "risk",
                "1 week",
                ["8 support tickets vs 3 average", "NPS down 2 points"],
            ),
        ],
        positives=["Executive sponsor engaged", "Paid on time", "Renewal 127 days out"],
        expansion=[],
        interpretations=[
            views.Signal(
                "usage_down_tickets_up",
                "Likely onboarding or product gap",
                "Medium",
                "interpretation",
                None,
                ["Usage fell while tickets rose"],
            )
        ],
        actions=[
            views.Action(
                1,
                "Address usage decline",
                ["Schedule product audit with VP Operations", "Run targeted enablement for inactive users"],
                "this week",
            ),
            views.Action(2, "Resolve product issues", ["Escalate the bug fix to the product team"]),
        ],
        playbook="Red Account Recovery",
        goal=views.HealthGoal(75, 30, ["Increase seat utilisation to 60%", "Improve NPS to 7+"]),
        recent_actions=[
            views.RecentAction(
                "Mike Lee", "acknowledged", datetime(2026, 11, 23, 10, 32), "Called VP Ops <urgent> & booked audit"
            )
        ],
        tags=["champion_left"],
    )
    fields.update(overrides)
    return views.HealthCard(**fields)  # type: ignore[arg-type]


def portfolio(n_accounts: int = 32, *, groups: int = 0) -> views.Portfolio:
    bands = [("Green", 0.38), ("Yellow", 0.44), ("Red", 0.18)]
    band_views = []
    for band, share in bands:
        count = round(n_accounts * share)
        top = [ref(f"{band} Account {i}", 85 - 20 * bands.index((band, share)), band, 50_000 - i) for i in range(3)]
        band_views.append(views.BandSummary(band, count, share, count * 38_000.0, f"Focus for {band}", top))
    many = [
        ref(f"Account {i:04d}", 60 + i % 30, "Yellow", 10_000 + i, delta=-(i % 9), previous_score=70)
        for i in range(n_accounts)
    ]
    return views.Portfolio(
        title="Sarah Chen",
        as_of=AS_OF,
        total_accounts=n_accounts,
        total_arr=n_accounts * 38_000.0,
        average_score=74,
        bands=band_views,
        improving=many[: n_accounts // 4],
        declining=many[n_accounts // 4 : n_accounts // 2],
        stable_count=n_accounts // 2,
        renewals=many[:5],
        renewal_arr_at_risk=215_000,
        capacity=views.Capacity(6, 3, "Stretched", "6 red accounts exceeds the healthy span of 3"),
        risk_drivers=[views.RiskDriver("Usage decline", 11, 480_000), views.RiskDriver("Low NPS", 4, 120_000)],
        expansion_ready=many[-3:],
        recommendations=["MegaCorp: request executive sponsor support this week"],
        groups=[
            views.GroupRow(f"CSM {i:03d}", 500, 1.9e7, 72, {"Green": 200, "Yellow": 200, "Red": 100})
            for i in range(groups)
        ],
    )
