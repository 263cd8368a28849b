"""Slack listeners: commands/, events/, actions/, modals/ — each package has `register(app)`, one module per listener.

Listeners orchestrate and hold no business logic: parse what was asked, get the answer from `bot.answers`, render it
with `messages.blockkit`, and deliver it. What every listener needs (the store, the settings) arrives in Bolt's
context as `AppDeps`, put there by a middleware in `bot.slack.app`.
"""
