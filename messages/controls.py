"""Every control a message can carry, named once: the buttons and menus of the view models and the forms they
open. Templates emit these IDs, each surface's listeners register by them, and a test renders every template to
prove that each ID emitted has a listener and each listener an ID.

The values are the wire names Slack sees as `action_id` / `callback_id` (and Teams as an `Action.Execute` verb);
they are stored in no database, but changing one strands the buttons of messages already posted.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """A button or menu in a message."""

    # Answers to questions
    SHOW_MORE = "health_show_more"  # the next page of a long answer
    PICK_ACCOUNT = "pick_account"  # one of the closest names offered for an unknown account
    ASK_AGAIN = "ask_again"  # "did you mean" under a CSM or segment we don't have; sent as ask_again_<n>
    ANSWER_FEEDBACK = "answer_feedback"  # thumbs up / down under an answer in the agent view
    SHARE = "health_share"  # post a private answer to the channel
    # The health card
    CARD_SHOW_TREND = "card_show_trend"
    CARD_START_PLAYBOOK = "card_start_playbook"
    CARD_LOG_TOUCH = "card_log_touch"
    CARD_SET_PULSE = "card_set_pulse"  # offered in the digest line's menu
    CARD_SNOOZE = "card_snooze"
    # An alert, whose buttons follow its state
    ALERT_ACKNOWLEDGE = "alert_acknowledge"
    ALERT_UNACKNOWLEDGE = "alert_unacknowledge"
    ALERT_RESOLVE = "alert_resolve"
    ALERT_UNRESOLVE = "alert_unresolve"
    ALERT_SNOOZE = "alert_snooze"  # a menu of how long
    ALERT_UNSNOOZE = "alert_unsnooze"
    ALERT_ASSIGN = "alert_assign"  # a people picker
    ALERT_START_PLAYBOOK = "alert_start_playbook"
    ALERT_LOG_NOTE = "alert_log_note"
    ALERT_SET_PULSE = "alert_set_pulse"
    # The digest, a playbook's checklist, App Home's alert settings
    DIGEST_LINE_MENU = "digest_line_menu"
    PLAYBOOK_STEP_TICK = "playbook_step_tick"
    ALERT_SCOPE = "alert_scope"
    ALERT_SEVERITIES = "alert_severities"


class FormId(StrEnum):
    """A form (a Slack modal's `callback_id`), answered when it is submitted."""

    LOG_TOUCH = "log_touch"
    START_PLAYBOOK = "start_playbook"
    SET_PULSE = "set_pulse"
    SNOOZE_ACCOUNT = "snooze_account"


# Every input of a form answers under this one action ID (state.values[block_id]["value"]); it is read on submit,
# never dispatched on its own.
FORM_INPUT = "value"

# The menu on a digest line carries "<what>:<account_id>" options; <what> is one of these.
DIGEST_MENU_CHOICES = (
    "show_card",
    Action.CARD_START_PLAYBOOK.value,
    Action.CARD_LOG_TOUCH.value,
    Action.CARD_SET_PULSE.value,
    Action.CARD_SNOOZE.value,
)
