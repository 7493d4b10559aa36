"""Bedrock's live catalogue of foundation models, through boto3's `bedrock` control-plane client.

boto3 finds the endpoint (`AWS_ENDPOINT_URL_BEDROCK`, `AWS_ENDPOINT_URL`) and the credentials (environment,
profile, instance or container role) on its own. ListFoundationModels is one page, filtered on the server;
only `modelArn` and `modelId` are sure to be in a summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import anyio
import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from apis.shared.config import ProviderSettings
from apis.shared.errors import ProviderUnavailableError, RuleViolation
from apis.shared.providers.listing.models import (
    BedrockModelSummary,
    reported,
    status_failure,
    unexpected,
    unreachable,
)

_LABEL = "Bedrock"
_CREDENTIALS = "AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an instance role)"
# One retry of throttling, a 5xx or a dropped connection: an admin is waiting on the page.
_MAX_ATTEMPTS = 2


def _not_configured() -> ProviderUnavailableError:
    return ProviderUnavailableError(f"Bedrock is not configured: no {_CREDENTIALS} were found")


@contextmanager
def _provider_errors() -> Iterator[None]:
    """Raise the Colloquy error matching any failure of boto3 inside the block."""
    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationException":
            # The request holds nothing but the caller's filters.
            refused = RuleViolation("Bedrock refused the filters: check their values", code="invalid_provider_filter")
            raise reported(refused, exc) from exc
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        raise reported(status_failure(_LABEL, status, credentials=_CREDENTIALS), exc) from exc
    except (ConnectionError, HTTPClientError) as exc:  # refused, unresolvable, timed out, dropped
        raise reported(unreachable(_LABEL), exc) from exc
    except (NoCredentialsError, PartialCredentialsError, ProfileNotFound) as exc:
        raise reported(_not_configured(), exc) from exc
    except BotoCoreError as exc:
        raise reported(unexpected(_LABEL), exc) from exc


# ListFoundationModels filters by these inference types only; the summaries also report others (for example
# INFERENCE_PROFILE), which the admin page offers as filters once it has seen them: those are applied here.
_UPSTREAM_INFERENCE_TYPES = frozenset({"ON_DEMAND", "PROVISIONED"})


def _filters(
    by_provider: str | None, by_output_modality: str | None, by_inference_type: str | None, by_customization: str | None
) -> dict[str, str]:
    """The request's filters Bedrock applies; the enumerated ones upper-cased, as Bedrock spells them."""
    inference_type = by_inference_type.upper() if by_inference_type else None
    filters = {
        "byProvider": by_provider,
        "byOutputModality": by_output_modality.upper() if by_output_modality else None,
        "byInferenceType": inference_type if inference_type in _UPSTREAM_INFERENCE_TYPES else None,
        "byCustomizationType": by_customization.upper() if by_customization else None,
    }
    return {name: value for name, value in filters.items() if value}


def _fetch(settings: ProviderSettings, region: str, filters: dict[str, str]) -> list[dict[str, Any]]:
    """The model summaries, fetched on a worker thread: boto3 blocks, on the network and on credential files."""
    with _provider_errors():
        session = boto3.session.Session(region_name=region)
        if session.get_credentials() is None:
            raise _not_configured()
        config = Config(
            connect_timeout=settings.provider_timeout_seconds,
            read_timeout=settings.provider_timeout_seconds,
            retries={"mode": "standard", "total_max_attempts": _MAX_ATTEMPTS},
        )
        # Any: the boto3 stubs installed here cover DynamoDB and S3 only.
        client: Any = session.client("bedrock", config=config)
        try:
            response = client.list_foundation_models(**filters)
        finally:
            client.close()
    summaries: list[dict[str, Any]] = response.get("modelSummaries", [])
    return summaries


def _summary(summary: dict[str, Any]) -> BedrockModelSummary:
    """Bedrock's summary in the page's shape: its values as Bedrock spells them, the lifecycle by its status."""
    lifecycle = summary.get("modelLifecycle") or {}
    return BedrockModelSummary(
        model_id=summary["modelId"],
        model_name=summary.get("modelName") or summary["modelId"],
        provider_name=summary.get("providerName") or "",
        input_modalities=list(summary.get("inputModalities", [])),
        output_modalities=list(summary.get("outputModalities", [])),
        response_streaming_supported=summary.get("responseStreamingSupported"),
        customizations_supported=list(summary.get("customizationsSupported", [])),
        inference_types_supported=list(summary.get("inferenceTypesSupported", [])),
        model_lifecycle=lifecycle.get("status"),
    )


async def list_bedrock_models(
    settings: ProviderSettings,
    *,
    region: str,
    by_provider: str | None = None,
    by_output_modality: str | None = None,
    by_inference_type: str | None = None,
    by_customization_type: str | None = None,
) -> list[BedrockModelSummary]:
    """Bedrock's foundation models matching the filters, in BEDROCK_REGION or else `region`, by model id.

    503 when boto3 finds no AWS credentials, 400 when Bedrock refuses a filter, 502 when Bedrock fails.
    """
    filters = _filters(by_provider, by_output_modality, by_inference_type, by_customization_type)
    fetch = partial(_fetch, settings, settings.bedrock_region or region, filters)
    summaries = await anyio.to_thread.run_sync(fetch)
    models = (_summary(summary) for summary in summaries)
    inference_type = by_inference_type.upper() if by_inference_type else None
    if inference_type is not None and inference_type not in _UPSTREAM_INFERENCE_TYPES:
        models = (model for model in models if inference_type in model.inference_types_supported)
    return sorted(models, key=lambda model: model.model_id)
