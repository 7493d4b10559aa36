"""Who may use which model: the one rule that both `GET /models` and `POST /invocations` apply."""

from __future__ import annotations

from apis.shared.models.models import ManagedModel
from apis.shared.rbac import EffectivePermissions


def can_use_model(permissions: EffectivePermissions, model: ManagedModel) -> bool:
    """An enabled model is usable when a role grants its modelId (or "*"), when it names one of the caller's
    app roles in `allowedAppRoles`, or when it names none (open to every signed-in user)."""
    if not model.enabled:
        return False
    if permissions.allows_model(model.model_id) or not model.allowed_app_roles:
        return True
    return not set(model.allowed_app_roles).isdisjoint(permissions.app_roles)
