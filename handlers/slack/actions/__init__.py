"""Button clicks."""

from slack_bolt import App

from handlers.slack.actions.alert_assign import assign_alert_callback
from handlers.slack.actions.alert_buttons import STATE_BUTTONS, alert_button_callback
from handlers.slack.actions.alert_scope import alert_scope_callback
from handlers.slack.actions.alert_snooze import snooze_alert_callback
from handlers.slack.actions.ask_again import ASK_AGAIN, ask_again_callback
from handlers.slack.actions.digest_menu import digest_menu_callback
from handlers.slack.actions.form_buttons import FORMS, form_button_callback
from handlers.slack.actions.pick_account import pick_account_callback
from handlers.slack.actions.playbook_step_tick import tick_step_callback
from handlers.slack.actions.share import share_callback
from handlers.slack.actions.show_more import show_more_callback
from handlers.slack.actions.show_trend import show_trend_callback
from messages.controls import Action


def register(app: App) -> None:
    """Listen for "Show more", a suggested account, "Share in channel", the health card's buttons, the alerts'
    buttons and menus, the digest lines' menus, playbook checklist ticks, and App Home's alert settings."""
    app.action(Action.SHOW_MORE)(show_more_callback)
    app.action(Action.PICK_ACCOUNT)(pick_account_callback)
    app.action(ASK_AGAIN)(ask_again_callback)  # "did you mean" under a CSM or segment we don't have
    app.action(Action.SHARE)(share_callback)
    app.action(Action.CARD_SHOW_TREND)(show_trend_callback)
    for action_id in STATE_BUTTONS:
        app.action(action_id)(alert_button_callback)
    app.action(Action.ALERT_SNOOZE)(snooze_alert_callback)
    app.action(Action.ALERT_ASSIGN)(assign_alert_callback)
    for form_button in FORMS:
        app.action(form_button)(form_button_callback)
    app.action(Action.PLAYBOOK_STEP_TICK)(tick_step_callback)
    app.action(Action.DIGEST_LINE_MENU)(digest_menu_callback)
    app.action(Action.ALERT_SCOPE)(alert_scope_callback)
    app.action(Action.ALERT_SEVERITIES)(alert_scope_callback)
