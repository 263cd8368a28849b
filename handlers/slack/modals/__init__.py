"""Modal submissions: Log touch / Log note, Start playbook, Set pulse, Snooze alerts."""

from slack_bolt import App

from bot.forms import PLAYBOOK_CALLBACK, PULSE_CALLBACK, SNOOZE_CALLBACK, TOUCH_CALLBACK
from handlers.slack.modals.log_touch import log_touch_submitted_callback
from handlers.slack.modals.set_pulse import set_pulse_submitted_callback
from handlers.slack.modals.snooze_account import snooze_account_submitted_callback
from handlers.slack.modals.start_playbook import start_playbook_submitted_callback


def register(app: App) -> None:
    """Listen for the alert and health-card modals being submitted."""
    app.view(TOUCH_CALLBACK)(log_touch_submitted_callback)
    app.view(PLAYBOOK_CALLBACK)(start_playbook_submitted_callback)
    app.view(PULSE_CALLBACK)(set_pulse_submitted_callback)
    app.view(SNOOZE_CALLBACK)(snooze_account_submitted_callback)
