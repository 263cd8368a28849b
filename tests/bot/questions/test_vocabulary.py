"""The vocabulary a question is read against follows the store: an account imported while the bot runs can be named
within the minute, without a restart, and nobody waits for the re-read."""

from __future__ import annotations

import time
from datetime import date

import pandas as pd
from sqlalchemy.engine import Engine

from bot.importer import import_frames
from bot.questions import vocabulary
from bot.questions.vocabulary import fold, refreshing
from bot.sample import load_sample


def _reread(engine: Engine) -> None:
    vocabulary(engine, max_age=0)  # a minute has passed: the re-read starts in the background
    deadline = time.monotonic() + 30
    while refreshing(engine) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not refreshing(engine)


def test_an_account_imported_while_running_is_known_after_the_re_read(engine: Engine) -> None:
    load_sample(engine, date(2026, 11, 24))
    before = vocabulary(engine, fresh=True)
    _reread(engine)
    assert vocabulary(engine) is before  # nothing changed: the one in hand is kept
    new = pd.DataFrame([{"account_id": "ACCT-NEW-1", "name": "Zephyr Quarry Works", "csm_owner": "Sarah Chen"}])
    import_frames(engine, accounts=new)
    assert fold("Zephyr Quarry Works") not in vocabulary(engine).account_names  # the answer in hand, no wait
    _reread(engine)
    assert vocabulary(engine).account_names[fold("Zephyr Quarry Works")] == ("ACCT-NEW-1",)


def test_an_account_whose_name_holds_a_refused_word_is_still_an_account(engine: Engine) -> None:
    """ "Pipeline", "forecast" or "news" in a question are refused as outside what the bot reads, but not when they
    are part of an account's name."""
    from bot.questions.parse import parse

    load_sample(engine, date(2026, 11, 24))
    named = pd.DataFrame(
        [
            {"account_id": "ACCT-PIPE-1", "name": "Pipeline Partners", "csm_owner": "Sarah Chen"},
            {"account_id": "ACCT-NEWS-1", "name": "Daily News Group", "csm_owner": "Kenji Watanabe"},
        ]
    )
    import_frames(engine, accounts=named)
    words = vocabulary(engine, fresh=True)
    for question, account_id in (
        ("how is Pipeline Partners doing?", "ACCT-PIPE-1"),
        ("Daily News Group health", "ACCT-NEWS-1"),
    ):
        q = parse(question, words)
        assert q.wanted == "card" and q.accounts == (account_id,), q
    assert parse("what's our forecast for Q1", words).wanted == "unsupported"
    refused = parse("what's the NRR of Pipeline Partners", words)
    assert refused.wanted == "unsupported" and "revenue retention" in (refused.unsupported_reason or "")
