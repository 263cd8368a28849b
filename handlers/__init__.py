"""Listeners, one package per surface: `handlers.slack` (Bolt listeners) and, beside it, `handlers.teams`.

Listeners orchestrate and hold no business logic: they read what was asked, get the answer from the core (`bot`),
render it with `messages`, and deliver it. A surface's listeners never import another surface's.
"""
