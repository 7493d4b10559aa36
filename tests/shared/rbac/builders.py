"""Small builders of unique roles, so that rbac tests never collide on ids."""

from __future__ import annotations

import uuid

from apis.shared.clock import now_iso
from apis.shared.rbac import AppRole


def random_role_id() -> str:
    return f"role_{uuid.uuid4().hex[:12]}"


def make_role(role_id: str | None = None, **fields: object) -> AppRole:
    """A stored-shape role with a unique id unless one is given; `fields` override the rest."""
    now = now_iso()
    values: dict[str, object] = {
        "role_id": role_id or random_role_id(),
        "display_name": "Some role",
        "created_at": now,
        "updated_at": now,
    }
    return AppRole.model_validate({**values, **fields})
