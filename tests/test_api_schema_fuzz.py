"""Schemathesis over both services' OpenAPI: generated requests, valid and invalid, never get a 500, and every
2xx answer matches the documented schema. The servers are real (uvicorn on loopback, embedded backend)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from apis.app_api.main import create_app as create_app_api
from apis.inference_api.main import create_app as create_inference_api
from apis.shared.auth import mint_local_token
from apis.shared.config import Settings
from tests.fixtures.providers import AWS_VARIABLES, PROVIDER_VARIABLES
from tests.fixtures.services import live_server, service_settings
from tests.helpers import local_storage_settings

FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


def admin_headers(service_settings_: Settings) -> dict[str, str]:
    token = mint_local_token(
        settings=service_settings_.auth,
        data_dir=service_settings_.storage.data_dir,
        user_id="fuzz-admin",
        email="fuzz@example.com",
        name="Fuzz",
        roles=["admin"],
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def fuzz_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """No provider configured and no AWS credentials to find: the providers' catalogues answer empty, offline."""
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    with pytest.MonkeyPatch.context() as environment:
        for name in (*PROVIDER_VARIABLES, *AWS_VARIABLES):
            environment.delenv(name, raising=False)
        environment.setenv("AWS_CONFIG_FILE", str(data_dir / "no-aws-config"))
        environment.setenv("AWS_SHARED_CREDENTIALS_FILE", str(data_dir / "no-aws-credentials"))
        environment.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield service_settings(local_storage_settings(data_dir))


@pytest.fixture(scope="module")
def app_url(fuzz_settings: Settings) -> Iterator[str]:
    with live_server(lambda: create_app_api(fuzz_settings)) as url:
        yield url


@pytest.fixture(scope="module")
def inference_url(fuzz_settings: Settings) -> Iterator[str]:
    with live_server(lambda: create_inference_api(fuzz_settings)) as url:
        yield url


def openapi_of(service: str) -> schemathesis.BaseSchema:
    """The schema as the service builds it (building an app opens nothing: that happens at its start)."""
    placeholder = service_settings(local_storage_settings(Path("unused")))
    app = create_app_api(placeholder) if service == "app" else create_inference_api(placeholder)
    return schemathesis.openapi.from_dict(app.openapi())


app_api = openapi_of("app")
inference_api = openapi_of("inference")


@schemathesis.check
def no_bug(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]) -> None:
    """Never a 500; a 502 or 503 (a provider or storage away, which the fuzzer may set up) only with our body."""
    status = response.status_code
    assert status != 500, f"500 for {case.method} {case.formatted_path}: {response.text[:300]}"
    if status >= 500:
        body = response.json()
        assert status in (502, 503), status
        assert {"detail", "message", "code", "requestId"} <= set(body), body


CHECKS = [no_bug, checks.response_schema_conformance]


@app_api.parametrize()
@FUZZ
def test_the_app_api_never_answers_500(case: schemathesis.Case[Any], app_url: str, fuzz_settings: Settings) -> None:
    case.call_and_validate(base_url=app_url, headers=admin_headers(fuzz_settings), checks=CHECKS)


@inference_api.parametrize()
@FUZZ
def test_the_inference_api_never_answers_500(
    case: schemathesis.Case[Any], inference_url: str, fuzz_settings: Settings
) -> None:
    case.call_and_validate(base_url=inference_url, headers=admin_headers(fuzz_settings), checks=CHECKS)
