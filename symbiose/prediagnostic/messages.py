"""French wording of the pre-diagnostic's messages: every issue carries its code and its French
message (``symbiose.explain.issues``), so this only reads it."""

from __future__ import annotations

from symbiose.domain import Issue
from symbiose.explain.issues import issue_fr


def prediag_fr(item: Issue | dict) -> str:
    """The French message of a pre-diagnostic issue."""
    return issue_fr(item)
