"""Who may change an account's or an alert's state: the account's CSM or a Healthbot admin (and, on an alert, the
person it is assigned to). One check, called by every write in the core, whichever surface the person acts from.

A surface passes a `Person` — the ID it knows them by and their email when it has one — never its own payload.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.settings import Settings
from bot.store import Account, HealthAlert, SlackUserCache


class NotAllowed(PermissionError):
    """The person may not do this; the message says who may, and that nothing was recorded."""


@dataclass(frozen=True)
class Person:
    """Someone acting through a surface: their ID there (a Slack user ID, a Teams user ID) and, when the surface
    knows it, their email address (matched against the account's `csm_email`)."""

    user_id: str
    email: str | None = None
    # Other names the surface knows them by (Teams: the Entra object ID and the email address), which
    # HEALTHBOT_ADMINS, an alert's assignee or the account's CSM fields may hold instead of `user_id`.
    also_known_as: frozenset[str] = frozenset()

    @property
    def names(self) -> frozenset[str]:
        """Every name this person goes by, email addresses lower-cased."""
        found = {self.user_id, self.email or "", *self.also_known_as}
        return frozenset(name.strip().lower() if "@" in name else name.strip() for name in found if name.strip())


def check_may_act(
    session: Session,
    person: Person,
    *,
    account_id: str,
    settings: Settings,
    doing: str,
    alert: HealthAlert | None = None,
    from_alert_channel: bool = False,
) -> None:
    """Raise NotAllowed unless `person` may write to the account (or the alert on it).

    Args:
        doing: what they tried, in the words of the refusal ("change this alert", "log a touch on Acme Corp").
        alert: the alert acted on, if any: its assignee may act too.
        from_alert_channel: the click came from the copy in HEALTHBOT_ALERT_CHANNEL, where
            HEALTHBOT_ALERT_CHANNEL_CAN_ACT lets anyone act.

    Raises:
        NotAllowed: not the account's CSM, the alert's assignee or an admin; the caller records nothing.
    """
    if person.names & {name.lower() if "@" in name else name for name in settings.admins}:
        return
    if alert is not None and from_alert_channel and settings.healthbot_alert_channel_can_act:
        return
    if alert is not None and alert.assigned_to and alert.assigned_to in person.names:
        return
    account = session.get(Account, account_id)
    if account is not None and _is_the_csm(session, account, person):
        return
    csm = account.csm_owner if account is not None else "the account's CSM"
    assignee = " or the person it is assigned to" if alert is not None and alert.assigned_to else ""
    raise NotAllowed(
        f"Only {csm} (the account's CSM){assignee} or a Healthbot admin can {doing}, so nothing was recorded. "
        "Ask them to pick it up, or ask an admin to add you to HEALTHBOT_ADMINS."
    )


def account_csm_ids(session: Session, account: Account) -> set[str]:
    """The IDs the account's CSM is known by: `csm_slack_id`, and the Slack ID found for `csm_email`."""
    found = {account.csm_slack_id} if account.csm_slack_id else set()
    if account.csm_email:
        cached = session.get(SlackUserCache, account.csm_email.strip().lower())
        if cached is not None and cached.user_id:
            found.add(cached.user_id)
    return found


def _is_the_csm(session: Session, account: Account, person: Person) -> bool:
    if person.names & account_csm_ids(session, account):
        return True
    return (account.csm_email or "").strip().lower() in person.names
