"""Checks on what the bot sent to Slack."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block


def assert_valid_message(params: dict[str, Any]) -> list[dict[str, Any]]:
    """A message Slack would accept: a text fallback, at most 50 blocks that parse and validate; returns the blocks."""
    assert isinstance(params.get("text"), str) and params["text"].strip(), "every message needs a text fallback"
    blocks = params.get("blocks") or []
    assert len(blocks) <= 50
    for block in Block.parse_all(blocks):
        assert block is not None
        block.validate_json()
    return blocks


def buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """action_id → value of every button in `blocks`."""
    found: dict[str, str] = {}
    for block in blocks:
        elements = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory") or {}]
        for element in elements:
            if element.get("type") == "button":
                found[element["action_id"]] = element.get("value", "")
    return found


def all_text(params: dict[str, Any]) -> str:
    """Every word of a message, fallback and blocks, for asserting what it says."""
    return params.get("text", "") + "\n" + str(params.get("blocks") or "")
