"""can_use_model: grants, allowedAppRoles (app roles), availableToRoles (token roles), and open models."""

from __future__ import annotations

import pytest

from apis.shared.models import ManagedModel, can_use_model
from apis.shared.rbac import EffectivePermissions


def model(**fields: object) -> ManagedModel:
    return ManagedModel.model_validate(
        {
            "id": "m-1",
            "modelId": "claude",
            "modelName": "Claude",
            "provider": "bedrock",
            "createdAt": "2026-01-01T00:00:00.000000Z",
            "updatedAt": "2026-01-01T00:00:00.000000Z",
            **fields,
        }
    )


def caller(
    *, app_roles: tuple[str, ...] = (), token_roles: tuple[str, ...] = (), models: tuple[str, ...] = ()
) -> EffectivePermissions:
    return EffectivePermissions(app_roles=list(app_roles), token_roles=list(token_roles), models=list(models))


@pytest.mark.parametrize(
    ("fields", "permissions", "usable"),
    [
        ({}, caller(), True),
        ({"allowedAppRoles": ["staff"]}, caller(app_roles=("staff",)), True),
        ({"allowedAppRoles": ["staff"]}, caller(app_roles=("default",), token_roles=("staff",)), False),
        ({"availableToRoles": ["Faculty"]}, caller(token_roles=("Faculty",)), True),
        ({"availableToRoles": ["Faculty"]}, caller(token_roles=("faculty",)), False),
        ({"availableToRoles": ["Faculty"]}, caller(app_roles=("Faculty",)), False),
        ({"allowedAppRoles": ["staff"], "availableToRoles": ["Faculty"]}, caller(token_roles=("Faculty",)), True),
        ({"allowedAppRoles": ["staff"], "availableToRoles": ["Faculty"]}, caller(app_roles=("staff",)), True),
        ({"allowedAppRoles": ["staff"], "availableToRoles": ["Faculty"]}, caller(), False),
        ({"availableToRoles": ["Faculty"]}, caller(models=("claude",)), True),
        ({"allowedAppRoles": ["staff"]}, caller(models=("*",)), True),
        ({"enabled": False}, caller(models=("*",), app_roles=("staff",)), False),
    ],
    ids=[
        "open",
        "app-role",
        "a-token-role-is-not-an-app-role",
        "token-role",
        "token-roles-match-exactly",
        "an-app-role-is-not-a-token-role",
        "either-list-token",
        "either-list-app",
        "restricted-by-both",
        "granted-by-model-id",
        "granted-by-wildcard",
        "disabled",
    ],
)
def test_who_may_use_a_model(fields: dict[str, object], permissions: EffectivePermissions, usable: bool) -> None:
    assert can_use_model(permissions, model(**fields)) is usable


def test_token_roles_are_never_sent() -> None:
    assert "tokenRoles" not in caller(token_roles=("Faculty",)).model_dump(by_alias=True)
