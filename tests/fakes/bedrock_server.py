"""A fake of Bedrock's control plane for the real boto3 `bedrock` client (moto 5 does not implement this API).

Point boto3 at it with `AWS_ENDPOINT_URL_BEDROCK=<url>`. It serves ListFoundationModels (`GET
/foundation-models`) with its four filters applied as Bedrock applies them, refuses an unknown enumerated
filter value with a ValidationException, and with `access_key_id` set refuses other keys as AWS does.
Signatures are not checked: the fake does not know the secret key.

It also serves the runtime's Converse (`POST /model/{modelId}/converse`) and ConverseStream
(`.../converse-stream`, in the event stream framing of tests/fakes/eventstream.py) from the state's script,
for a `bedrock-runtime` client pointed at the same URL (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`).

InvokeModel (`POST /model/{modelId}/invoke`) serves Amazon Titan Text Embeddings v2 only: one `inputText` per
call, `dimensions` 256, 512 or 1024 (1024 when unset), answered as Titan does, `{"embedding",
"embeddingsByType": {"float"}, "inputTextTokenCount"}`, with vectors from tests/fakes/embedding_vectors.py and
the state's `embeddings` script; any other model, or a body Titan would refuse, is a ValidationException.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.embedding_vectors import EmbeddingCall, EmbeddingScript, token_count
from tests.fakes.eventstream import ConverseStream, converse_answer
from tests.fakes.server import (
    FakeProviderState,
    RunningFake,
    ScriptedStream,
    fake_app,
    json_body,
    serve,
    take_turn,
    whole_answer,
)

OUTPUT_MODALITIES = frozenset({"TEXT", "IMAGE", "EMBEDDING"})
INFERENCE_TYPES = frozenset({"ON_DEMAND", "PROVISIONED"})
CUSTOMIZATION_TYPES = frozenset({"FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"})

_ERROR_CODES = {
    400: "ValidationException",
    401: "UnrecognizedClientException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
EVENT_STREAM = "application/vnd.amazon.eventstream"
TITAN_EMBEDDINGS_V2 = "amazon.titan-embed-text-v2"
TITAN_DIMENSIONS = (256, 512, 1024)
TITAN_FIELDS = frozenset({"inputText", "dimensions", "normalize", "embeddingTypes"})
_CREDENTIAL = re.compile(r"Credential=([^/]+)/")


def bedrock_model(
    model_id: str,
    *,
    provider_name: str = "Anthropic",
    model_name: str | None = None,
    input_modalities: Sequence[str] = ("TEXT", "IMAGE"),
    output_modalities: Sequence[str] = ("TEXT",),
    inference_types: Sequence[str] = ("ON_DEMAND",),
    customizations: Sequence[str] = (),
    streaming: bool = True,
    lifecycle_status: str = "ACTIVE",
) -> dict[str, Any]:
    """A model summary as ListFoundationModels describes it."""
    return {
        "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": model_name or model_id,
        "providerName": provider_name,
        "inputModalities": list(input_modalities),
        "outputModalities": list(output_modalities),
        "responseStreamingSupported": streaming,
        "customizationsSupported": list(customizations),
        "inferenceTypesSupported": list(inference_types),
        "modelLifecycle": {"status": lifecycle_status},
    }


@dataclass
class FakeBedrockState(FakeProviderState):
    models: list[dict[str, Any]] = field(default_factory=list)
    # When set, a request signed with another access key id is refused with UnrecognizedClientException.
    access_key_id: str | None = None
    # What InvokeModel answers for Titan Text Embeddings v2, and each call it got.
    embeddings: EmbeddingScript = field(default_factory=EmbeddingScript)


def bedrock_error(status: int, message: str, *, code: str | None = None) -> Response:
    """An error as AWS's REST-JSON protocol sends it: the code in `x-amzn-ErrorType`, `{"message"}` as body."""
    code = code or _ERROR_CODES.get(status, "InternalServerException")
    return JSONResponse({"message": message}, status_code=status, headers={"x-amzn-ErrorType": code})


def _enum_filter(request: Request, name: str, allowed: frozenset[str]) -> tuple[str | None, Response | None]:
    value = request.query_params.get(name)
    if value is not None and value not in allowed:
        return None, bedrock_error(400, f"1 validation error detected: Value '{value}' at '{name}' failed")
    return value, None


def _matches(model: dict[str, Any], provider: str | None, filters: dict[str, str | None]) -> bool:
    if provider is not None and model["providerName"].lower() != provider.lower():
        return False
    lists = {
        "byOutputModality": "outputModalities",
        "byInferenceType": "inferenceTypesSupported",
        "byCustomizationType": "customizationsSupported",
    }
    return all(value is None or value in model[lists[name]] for name, value in filters.items())


def _titan_refusal(body: Any) -> str | None:
    """Why Titan Text Embeddings v2 would refuse `body`, in its ValidationException's words; None if it takes it."""
    if not isinstance(body, dict):
        return "Malformed input request: expected a JSON object, please reformat your input and try again."
    if extraneous := sorted(set(body) - TITAN_FIELDS):
        return f"Malformed input request: extraneous key [{extraneous[0]}] is not permitted"
    text = body.get("inputText")
    if not isinstance(text, str) or not text:
        return "Malformed input request: #/inputText: expected minLength: 1, please reformat your input and try again."
    if body.get("dimensions", 1024) not in TITAN_DIMENSIONS:
        return f"Malformed input request: #/dimensions: {body['dimensions']} is not a valid enum value"
    return None


def titan_embedding(state: FakeBedrockState, model: str, body: Any) -> Response:
    """InvokeModel's answer for Titan Text Embeddings v2: the script's failure, a ValidationException, or a vector."""
    if not model.startswith(TITAN_EMBEDDINGS_V2):
        return bedrock_error(400, "The provided model identifier is invalid.")
    if (refusal := _titan_refusal(body)) is not None:
        return bedrock_error(400, refusal)
    text, dimensions = body["inputText"], body.get("dimensions")
    failed = state.embeddings.take(EmbeddingCall(model=model, texts=[text], dimensions=dimensions))
    if failed is not None:
        return bedrock_error(failed, f"the fake was told to fail with {failed}")
    tokens = token_count(text)
    answer: dict[str, Any] = {"inputTextTokenCount": tokens}
    for vector in state.embeddings.vectors([text], dimensions or 1024):
        answer |= {"embedding": vector, "embeddingsByType": {"float": vector}}
    headers = {"x-amzn-requestid": str(uuid.uuid4()), "x-amzn-bedrock-input-token-count": str(tokens)}
    return JSONResponse(answer, headers=headers)


def create_bedrock_app(state: FakeBedrockState) -> Starlette:
    """The fake's app, driven by `state`."""

    def refused(request: Request) -> Response | None:
        found = _CREDENTIAL.search(request.headers.get("authorization", ""))
        if found is None:
            return bedrock_error(403, "Missing Authentication Token")
        if state.access_key_id is not None and found.group(1) != state.access_key_id:
            return bedrock_error(401, "The security token included in the request is invalid.")
        return None

    async def list_foundation_models(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        filters: dict[str, str | None] = {}
        for name, allowed in (
            ("byOutputModality", OUTPUT_MODALITIES),
            ("byInferenceType", INFERENCE_TYPES),
            ("byCustomizationType", CUSTOMIZATION_TYPES),
        ):
            filters[name], invalid = _enum_filter(request, name, allowed)
            if invalid is not None:
                return invalid
        provider = request.query_params.get("byProvider")
        summaries = [model for model in state.models if _matches(model, provider, filters)]
        return JSONResponse({"modelSummaries": summaries})

    async def converse(request: Request) -> Response:
        return await _answer(request, stream=False)

    async def converse_stream(request: Request) -> Response:
        return await _answer(request, stream=True)

    async def _answer(request: Request, *, stream: bool) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        model = request.path_params["model_id"]
        turn = await take_turn(state, request, await json_body(request), bedrock_error, model=model, stream=stream)
        if isinstance(turn, Response):
            return turn
        if not stream:
            return await whole_answer(turn, converse_answer(turn), bedrock_error)
        return ScriptedStream(
            turn,
            ConverseStream(turn),
            state.stream_outcomes,
            media_type=EVENT_STREAM,
            headers={"x-amzn-requestid": str(uuid.uuid4())},
        )

    async def invoke_model(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        async with state.embeddings.answering():
            return titan_embedding(state, request.path_params["model_id"], await json_body(request))

    routes = [
        Route("/foundation-models", list_foundation_models, methods=["GET"]),
        # `path`: an inference profile's ARN has slashes, which Starlette sees decoded.
        Route("/model/{model_id:path}/converse", converse, methods=["POST"]),
        Route("/model/{model_id:path}/converse-stream", converse_stream, methods=["POST"]),
        Route("/model/{model_id:path}/invoke", invoke_model, methods=["POST"]),
    ]
    return fake_app(routes, state, bedrock_error)


@contextmanager
def running_bedrock(state: FakeBedrockState | None = None) -> Iterator[RunningFake[FakeBedrockState]]:
    """The fake served on loopback; its `url` is boto3's endpoint URL for `bedrock`."""
    state = state if state is not None else FakeBedrockState()
    with serve(create_bedrock_app(state)) as url:
        yield RunningFake(url=url, state=state)
