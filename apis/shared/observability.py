"""Structured logs carrying the request id, and the Prometheus metrics both services export at /metrics.

Metrics live in the default registry at module level, as prometheus_client intends: they are counters, not
connections, and both services in one process (the test suite) share them without harm.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

_HANDLER_NAME = "colloquy"
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

HTTP_REQUESTS = Counter(
    "colloquy_http_requests_total",
    "HTTP requests answered, by route template and status code.",
    ["service", "method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "colloquy_http_request_duration_seconds",
    "Time to the end of the response (for a stream: to its last frame).",
    ["service", "method", "route"],
)
STREAMS_ACTIVE = Gauge("colloquy_streams_active", "Chat turns streaming now.")
STREAMS = Counter("colloquy_streams_total", "Chat turns streamed, by how they ended.", ["outcome"])
PROVIDER_SECONDS = Histogram(
    "colloquy_provider_latency_seconds", "Model call duration, first request to last event.", ["provider"]
)
TIME_TO_FIRST_BYTE_SECONDS = Histogram(
    "colloquy_time_to_first_byte_seconds",
    "From the start of a turn to the first streamed model output.",
    ["provider"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TOKENS = Counter("colloquy_tokens_total", "Model tokens, by provider and kind.", ["provider", "kind"])
EMBEDDING_SECONDS = Histogram(
    "colloquy_embedding_call_seconds",
    "Embedding of one batch of texts (the SDK's retries included), by provider and outcome (ok or error).",
    ["provider", "outcome"],
)
DOCUMENT_INGESTIONS = Counter(
    "colloquy_document_ingestions_total",
    "Knowledge-base documents whose ingestion ended, by outcome (complete, failed, retry).",
    ["outcome"],
)
RETRIEVAL_SECONDS = Histogram(
    "colloquy_retrieval_seconds",
    "Knowledge-base retrieval for one query (both searches, fusion and the documents' check), by kind.",
    ["kind"],
)
STORAGE_ERRORS = Counter(
    "colloquy_storage_errors_total", "Storage backend failures, by backend and kind.", ["backend", "kind"]
)
SUPPRESSED_ERRORS = Counter(
    "colloquy_suppressed_errors_total",
    "Failures of best-effort side work that were logged and not raised (see docs/suppressions.md).",
    ["where"],
)
INVALID_RECORDS = Counter(
    "colloquy_invalid_records_total",
    "Stored records that failed validation when read back (skipped from lists, an error for their own reads).",
    ["kind"],
)
BACKGROUND_FAILURES = Counter(
    "colloquy_background_task_failures_total", "Tracked background tasks that failed.", ["task"]
)
MCP_ERRORS = Counter(
    "colloquy_mcp_errors_total",
    "MCP server failures, by server (its catalogue key) and stage: discover (a sync), connect (a turn could not"
    " reach it; its tools answered with a tool error), call (a tool call failed outside the tool).",
    ["server", "stage"],
)
MEMORY_EXTRACTIONS = Counter(
    "colloquy_memory_extractions_total",
    "Long-term memory's work after a turn, by outcome: stored (new preferences or facts), nothing (only the"
    " session's summary moved on), off (memory off for the deployment or the user), failed (logged, suppressed).",
    ["outcome"],
)
HISTORY_COMPACTIONS = Counter(
    "colloquy_history_compactions_total",
    "Turns whose older messages stood in the model's context as the session's summary, by whether the summary"
    " was folded forward during the turn (folded) or was current already (reused).",
    ["kind"],
)

# uvicorn adds `color_message`, the same text with terminal colour codes: not for a JSON line.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "color_message",
}


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; `extra={...}` fields become top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(*, level: str, fmt: str) -> None:
    """Route every logger (ours, uvicorn's) through one handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    handler.setFormatter(formatter)
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own handler (a second start in one process must not log twice); leave others alone.
    root.handlers[:] = [existing for existing in root.handlers if existing.get_name() != _HANDLER_NAME] + [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our middleware writes one access line per request with its id; uvicorn's own would repeat it.
    logging.getLogger("uvicorn.access").disabled = True
