"""The Microsoft Teams surface: the Teams SDK app and its serving, conversation references, who a Teams user is,
and proactive delivery (digests, alerts) under the same exactly-once ledger as Slack."""
