"""People: the Slack surface's one resolver lives in bot.slack.people; listeners reach it through their deps."""

from bot.slack.people import SLACK_USER_ID, SlackPeople, book_owner

PeopleDirectory = SlackPeople  # the name the listeners' deps use

__all__ = ["SLACK_USER_ID", "PeopleDirectory", "SlackPeople", "book_owner"]
