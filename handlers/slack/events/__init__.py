"""Events: mentions, direct messages, and the App Home tab."""

from slack_bolt import App

from handlers.slack.events.agent import FEEDBACK_ACTION_ID, build_assistant, feedback_callback
from handlers.slack.events.app_home_opened import app_home_opened_callback
from handlers.slack.events.app_mention import app_mention_callback
from handlers.slack.events.direct_message import direct_message_callback


def register(app: App) -> None:
    """Listen for agent threads (Slack's Agent View: assistant_thread_started and the messages in those threads,
    with feedback on answers), `app_mention`, `message` (direct messages only) and `app_home_opened`."""
    app.use(build_assistant())
    app.action(FEEDBACK_ACTION_ID)(feedback_callback)
    app.event("app_mention")(app_mention_callback)
    app.event("message")(direct_message_callback)
    app.event("app_home_opened")(app_home_opened_callback)
