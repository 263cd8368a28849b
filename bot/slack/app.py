"""The Bolt app: one factory that wires the Web API client, the middleware and every listener.

Used by both ways of running: Socket Mode (`healthbot serve` with SLACK_APP_TOKEN) and HTTP (`bot.slack.server`).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

import handlers.slack.actions
import handlers.slack.commands
import handlers.slack.events
import handlers.slack.modals
from bot.settings import Settings, SettingsError
from bot.slack.delivery import retry_handlers
from handlers.slack.access import AccessList
from handlers.slack.deps import AppDeps
from handlers.slack.middleware import AllowedUsersOnly, CheckSealedForms, DeliverEventsOnce, ProvideDeps
from handlers.slack.people import PeopleDirectory

logger = logging.getLogger(__name__)

LISTENER_THREADS = 16


class _SameTokenNotice(logging.Filter):
    """Bolt warns that a given client's token wins over SLACK_BOT_TOKEN. Ours is made from that very token, so the
    warning would only send operators looking for a configuration mistake that isn't there."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_SameTokenNotice())


def create_web_client(settings: Settings) -> WebClient:
    """A Web API client for the bot token at `SLACK_API_URL`.

    Each call gives up after HEALTHBOT_SLACK_TIMEOUT_SECONDS, and waits out a 429 (twice at most) only when Slack
    asks for no longer than that; a longer wait is the caller's (the delivery ledger waits within its budget). A
    dropped connection is retried only for calls that create nothing: a post whose answer was lost is left to the
    ledger, which looks for it before posting again (bot.slack.delivery).
    """
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return WebClient(
        token=settings.slack_bot_token,
        base_url=base_url,
        timeout=settings.healthbot_slack_timeout_seconds,  # type: ignore[arg-type]  # urllib takes fractions
        retry_handlers=retry_handlers(max_wait=settings.healthbot_slack_timeout_seconds),
    )


def create_app(settings: Settings, *, engine: Engine, client: WebClient | None = None) -> App:
    """Build the Slack app.

    Args:
        settings: the bot's settings; SLACK_BOT_TOKEN is required.
        engine: the store.
        client: a ready Web API client (tests); by default one is made from the settings.

    Raises:
        SettingsError: SLACK_BOT_TOKEN is not set.
        slack_bolt.error.BoltError: Slack refused the token (auth.test failed).
    """
    if client is None:
        if settings.slack_bot_token is None:
            raise SettingsError(
                "SLACK_BOT_TOKEN is not set: paste the Bot User OAuth Token (xoxb-…) from your Slack app's "
                "OAuth & Permissions page into your environment or .env"
            )
        client = create_web_client(settings)
    executor = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="healthbot-listener")
    app = App(
        name="healthbot",
        client=client,
        # HTTP requests are verified at the door (bot.slack.server); Bolt's own check stays on as a second lock.
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=settings.slack_signing_secret is not None,
        listener_executor=executor,
    )
    deps = AppDeps(
        engine=engine,
        settings=settings,
        executor=executor,
        access=AccessList(settings.allowed_users, client=client),
        people=PeopleDirectory(client=client, engine=engine),
    )
    # Order matters: events are recorded as handled before anything can answer, and refusals come after that.
    app.use(ProvideDeps(deps))
    app.use(DeliverEventsOnce(engine))
    app.use(AllowedUsersOnly(deps))
    app.use(CheckSealedForms(deps))
    for package in (handlers.slack.commands, handlers.slack.events, handlers.slack.actions, handlers.slack.modals):
        package.register(app)
    return app
