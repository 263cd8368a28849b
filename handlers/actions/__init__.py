"""Button clicks."""

from slack_bolt import App

from handlers.actions.card_buttons import NOT_YET, card_button_callback
from handlers.actions.pick_account import pick_account_callback
from handlers.actions.share import share_callback
from handlers.actions.show_more import show_more_callback
from handlers.actions.show_trend import show_trend_callback
from handlers.replies import SHARE_ACTION_ID


def register(app: App) -> None:
    """Listen for "Show more", a suggested account, "Share in channel", and the health card's buttons."""
    app.action("health_show_more")(show_more_callback)
    app.action("pick_account")(pick_account_callback)
    app.action(SHARE_ACTION_ID)(share_callback)
    app.action("card_show_trend")(show_trend_callback)
    for action_id in NOT_YET:
        app.action(action_id)(card_button_callback)
