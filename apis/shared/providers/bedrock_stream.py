"""Bedrock's ConverseStream, sent and read here rather than through boto3 (issue 16).

Strands' Bedrock model runs boto3 in a worker thread and hands every event back to the event loop; botocore
parses each event through the service model's shapes. Together that was the largest share of a Bedrock turn's
CPU. This model keeps Strands' Bedrock model for the request (messages, tools, tool choice, cache points, its
retries on two known validation errors) and for what is not a stream (structured output, `streaming=False`),
and streams the call itself: the request signed with botocore's SigV4 signer from the session's credentials, sent
over one pooled session per model (provider_http.py), the `application/vnd.amazon.eventstream` frames decoded as they
arrive (eventstream.py) and each event's JSON handed to Strands as botocore would have handed it.

The endpoint is the one boto3 resolves for `bedrock-runtime` (AWS_ENDPOINT_URL_BEDROCK_RUNTIME and the like
still apply). Failures keep their meaning: a throttling exception (before or inside the stream) is Strands'
throttling exception, a context overflow its overflow exception, other refusals `BedrockStatusError` with the
status (failures.py maps it as it mapped botocore's ClientError), a broken or malformed stream a provider error.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, cast

import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.utils import percent_encode
from strands.models._thinking_binding import is_thinking_binding_error
from strands.models.bedrock import (
    _TOOL_RESULT_TURN_VALIDATION_MESSAGE,
    BEDROCK_CONTEXT_WINDOW_OVERFLOW_MESSAGES,
    BedrockModel,
    _fields_with_drop_block,
)
from strands.types.exceptions import ContextWindowOverflowException, ModelThrottledException
from strands.types.streaming import StreamEvent

from apis.shared.errors import ProviderError
from apis.shared.providers.eventstream import EventMessage, EventStreamDecoder, MalformedEventStream
from apis.shared.providers.provider_http import ProviderHttp, ProviderResponse
from apis.shared.providers.status_errors import ProviderStatusError

_EVENTS = frozenset(
    {"messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"}
)
_THROTTLING = frozenset({"ThrottlingException", "throttlingException"})
# The HTTP status each of ConverseStream's in-stream exceptions stands for.
_STREAM_EXCEPTION_STATUS = {
    "validationException": 400,
    "modelStreamErrorException": 424,
    "throttlingException": 429,
    "internalServerException": 500,
    "serviceUnavailableException": 503,
}
_ERROR_BODY_LIMIT = 64 * 1024


class BedrockStatusError(ProviderStatusError):
    """Bedrock refused the call (an error status) or broke off inside its stream (an exception event)."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(status_code, message, summary=f"{code or 'error'} (HTTP {status_code}): {message}")
        self.code = code


class BedrockStreamModel(BedrockModel):
    """Strands' Bedrock model with ConverseStream signed, sent and decoded over our own pooled HTTP client."""

    def __init__(self, *, http: ProviderHttp, boto_session: Any, **bedrock: Any) -> None:
        super().__init__(boto_session=boto_session, **bedrock)
        meta = self.client.meta
        self._http = http
        self._endpoint = meta.endpoint_url.rstrip("/")
        self._region = meta.region_name
        self._signing_name = meta.service_model.signing_name or "bedrock"
        self._credentials = boto_session.get_credentials()  # the chain's; a refreshable one refreshes itself

    async def stream(
        self,
        messages: Any,
        tool_specs: Any = None,
        system_prompt: str | None = None,
        *,
        tool_choice: Any = None,
        system_prompt_content: Any = None,
        cancel_signal: Any = None,
        structured_output_model: Any = None,
        **kwargs: Any,
    ) -> AsyncGenerator[StreamEvent, None]:
        if structured_output_model is not None or not self.config.get("streaming", True):
            async for event in super().stream(
                messages,
                tool_specs,
                system_prompt,
                tool_choice=tool_choice,
                system_prompt_content=system_prompt_content,
                cancel_signal=cancel_signal,
                structured_output_model=structured_output_model,
                **kwargs,
            ):
                yield event
            return
        if system_prompt and system_prompt_content is None:
            system_prompt_content = [{"text": system_prompt}]
        request = self.format_request(
            messages, tool_specs, system_prompt_content, tool_choice, kwargs.get("dynamic_trailing_blocks", 0)
        )
        response = await self._send(request)
        if response.status_code >= 400:
            refusal = await _refusal(response)
            retried = self._retried_request(request, refusal)
            if retried is None:
                raise _raised(refusal)
            response = await self._send(retried)
            if response.status_code >= 400:
                raise _raised(await _refusal(response))
        try:
            async for event in self._events(_message_batches(response), cancel_signal):
                yield event
        finally:
            response.close()

    async def _send(self, request: dict[str, Any]) -> ProviderResponse:
        body = orjson.dumps({k: v for k, v in request.items() if k != "modelId"}, default=_blob)
        url = f"{self._endpoint}/model/{percent_encode(request['modelId'])}/converse-stream"
        signed = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
        SigV4Auth(await self._frozen_credentials(), self._signing_name, self._region).add_auth(signed)
        return await self._http.send(url, body=body, headers=dict(signed.headers.items()))

    async def _frozen_credentials(self) -> Any:
        """The credentials to sign with; a refresh (an instance role's, a profile's) runs off the event loop."""
        refresh_needed = getattr(self._credentials, "refresh_needed", None)
        if refresh_needed is not None and refresh_needed():
            return await asyncio.to_thread(self._credentials.get_frozen_credentials)
        return self._credentials.get_frozen_credentials()

    def _retried_request(self, request: dict[str, Any], refusal: BedrockStatusError) -> dict[str, Any] | None:
        """The request again, changed as Strands' Bedrock model changes it for two validation errors; else None."""
        if refusal.code != "ValidationException":
            return None
        if _TOOL_RESULT_TURN_VALIDATION_MESSAGE in refusal.message:
            separated = self._separate_tool_result_turns(request["messages"])
            if separated == request["messages"]:
                return None
            self._tool_result_turn_separation_model_id = request["modelId"]
            return {**request, "messages": separated}
        fields = request.get("additionalModelRequestFields") or {}
        retry_fields = _fields_with_drop_block(fields) if is_thinking_binding_error(refusal) else None
        if retry_fields is None:
            return None
        self._drop_stale_thinking_model_id = request["modelId"]
        return {**request, "additionalModelRequestFields": retry_fields}

    async def _events(
        self, batches: AsyncIterator[list[EventMessage]], cancel_signal: Any
    ) -> AsyncIterator[StreamEvent]:
        """Strands' stream events for ConverseStream's messages, with its guardrail redaction kept."""
        redaction_emitted = saw_guardrail_trace = False
        last_stop_reason: str | None = None
        async for batch in batches:
            for message in batch:
                if cancel_signal is not None and cancel_signal.is_set():
                    return
                event = _event(message)
                if event is None:
                    continue
                if "messageStop" in event:
                    last_stop_reason = event["messageStop"].get("stopReason")
                if not redaction_emitted and "metadata" in event:
                    guardrail = (event["metadata"].get("trace") or {}).get("guardrail")
                    saw_guardrail_trace = saw_guardrail_trace or guardrail is not None
                    if self._should_redact_guardrail_content(guardrail, last_stop_reason):
                        for redaction in self._generate_redaction_events():
                            yield redaction
                        redaction_emitted = True
                yield cast(StreamEvent, event)
        if not redaction_emitted and not saw_guardrail_trace and last_stop_reason == "guardrail_intervened":
            for redaction in self._generate_redaction_events():
                yield redaction


async def _message_batches(response: ProviderResponse) -> AsyncIterator[list[EventMessage]]:
    """The body's event stream messages, decoded as its bytes arrive, a list per read (one step of this generator
    per read rather than per message); the body is read to its end."""
    decoder = EventStreamDecoder()
    try:
        async for chunk in response.iter_bytes():
            if messages := decoder.feed(chunk):
                yield messages
        if decoder.pending:
            raise MalformedEventStream("the stream ended inside a message")
    except MalformedEventStream as exc:
        raise ProviderError("Bedrock sent a malformed event stream", code="provider_error") from exc


def _event(message: EventMessage) -> dict[str, Any] | None:
    """The event a message carries as Strands expects it (botocore's shape); raises for an exception message."""
    kind = message.headers.get(":message-type", "event")
    if kind == "event":
        name = message.headers.get(":event-type", "")
        if name not in _EVENTS:
            return None
        payload = orjson.loads(message.payload) if message.payload else {}
        delta = payload.get("delta") if name == "contentBlockDelta" else None
        if delta and ("reasoningContent" in delta or "image" in delta):
            _decode_blobs(delta)
        return {name: payload}
    if kind == "exception":
        code = message.headers.get(":exception-type", "")
        text = _message_of(message.payload)
    else:  # "error": the service's own failure, named in headers
        code = message.headers.get(":error-code", "")
        text = message.headers.get(":error-message", "")
    raise _raised(BedrockStatusError(_STREAM_EXCEPTION_STATUS.get(code, 500), code, text))


def _decode_blobs(delta: dict[str, Any]) -> None:
    """Blobs arrive base64-encoded in JSON; botocore hands them on as bytes."""
    reasoning = delta.get("reasoningContent")
    if isinstance(reasoning, dict) and isinstance(reasoning.get("redactedContent"), str):
        reasoning["redactedContent"] = base64.b64decode(reasoning["redactedContent"])
    source = (delta.get("image") or {}).get("source")
    if isinstance(source, dict) and isinstance(source.get("bytes"), str):
        source["bytes"] = base64.b64decode(source["bytes"])


def _message_of(payload: bytes) -> str:
    try:
        parsed = json.loads(payload)
    except ValueError:
        return payload[:500].decode("utf-8", "replace")
    if isinstance(parsed, dict):
        return str(parsed.get("message") or parsed.get("Message") or "")
    return ""


async def _refusal(response: ProviderResponse) -> BedrockStatusError:
    """An error status's code and message, found where botocore's REST-JSON parser looks for them."""
    try:
        raw = (await response.read())[:_ERROR_BODY_LIMIT]
    finally:
        response.close()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = response.headers.get("x-amzn-errortype") or str(body.get("__type") or body.get("code") or "")
    code = code.split(":")[0].rsplit("#", 1)[-1]
    message = str(body.get("message") or body.get("Message") or raw[:500].decode("utf-8", "replace"))
    return BedrockStatusError(response.status_code, code, message)


def _raised(failure: BedrockStatusError) -> Exception:
    """What Strands' Bedrock model raised for the same botocore error: throttling and overflow are its own."""
    if failure.code in _THROTTLING:
        return ModelThrottledException(str(failure))
    if any(overflow in failure.message for overflow in BEDROCK_CONTEXT_WINDOW_OVERFLOW_MESSAGES):
        return ContextWindowOverflowException(str(failure))
    return failure


def _blob(value: object) -> str:
    """JSON for the request's blobs (images, documents, redacted reasoning), base64 as botocore sends them."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
