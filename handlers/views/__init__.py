"""Modal submissions. None yet: the alerts work (issue #5) adds the Log note and Log touch modals here."""

from slack_bolt import App


def register(app: App) -> None:
    """Listen for view submissions (none yet)."""
    del app
