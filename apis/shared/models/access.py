"""Who may use which model: the one rule that both `GET /models` and `POST /invocations` apply."""

from __future__ import annotations

from apis.shared.models.models import ManagedModel
from apis.shared.rbac import EffectivePermissions


def can_use_model(permissions: EffectivePermissions, model: ManagedModel) -> bool:
    """An enabled model is usable when a role grants its modelId (or "*"), when `allowedAppRoles` names one of
    the caller's app roles, when `availableToRoles` (the reference's legacy field) names one of the caller's
    token roles, or when both lists are empty (open to every signed-in user).

    Either list restricts the model on its own: a model open to the token role "faculty" only is not open to
    everyone because it names no app role.
    """
    if not model.enabled:
        return False
    if permissions.allows_model(model.model_id):
        return True
    if not model.allowed_app_roles and not model.available_to_roles:
        return True
    return not (
        set(model.allowed_app_roles).isdisjoint(permissions.app_roles)
        and set(model.available_to_roles).isdisjoint(permissions.token_roles)
    )
