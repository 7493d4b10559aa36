"""The failure of a provider call whose stream we read ourselves: the status it answered with.

OpenAI, Bedrock and Gemini each refuse a call with an HTTP status (or break off inside a stream with an error that
stands for one); failures.py turns the status into the same `stream_error` code for all three, as it does for the
SDKs' own status errors.
"""

from __future__ import annotations


class ProviderStatusError(Exception):
    """A provider refused the call with `status_code`; `message` is its own words, cut short, for the log."""

    def __init__(self, status_code: int, message: str, *, summary: str) -> None:
        super().__init__(summary)
        self.status_code = status_code
        self.message = message
