"""Slack, one surface over the core: the Bolt app factory, HTTP and Socket Mode serving, delivery under Slack's rate
limits, and the app manifest. The core never imports this package."""
