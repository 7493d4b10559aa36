"""App roles as the domain and the API see them (camelCase on the wire), and the permissions they resolve to."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from apis.shared.partial_updates import PartialUpdate, merged
from apis.shared.schemas import ApiModel

ROLE_ID_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
RoleId = Annotated[str, StringConstraints(pattern=ROLE_ID_PATTERN)]

SYSTEM_ADMIN = "system_admin"
DEFAULT_ROLE = "default"
SYSTEM_ROLES = frozenset({SYSTEM_ADMIN, DEFAULT_ROLE})
# A grant of "*" allows every tool or every model, including those added later.
WILDCARD = "*"
MAX_LIST_LENGTH = 100


def _unique(values: list[str]) -> list[str]:
    """Duplicates say nothing more and would make two equal roles compare unequal: keep the first of each."""
    return list(dict.fromkeys(values))


# A token role, tool id or model id: as the identity provider or the catalogue spells it.
Name = Annotated[str, StringConstraints(min_length=1, max_length=256)]
NameList = Annotated[list[Name], Field(max_length=MAX_LIST_LENGTH), AfterValidator(_unique)]
RoleIdList = Annotated[list[RoleId], Field(max_length=MAX_LIST_LENGTH), AfterValidator(_unique)]
DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Priority = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]


class AppRole(ApiModel):
    """One stored role: which token roles it follows, which roles it inherits from, what it grants."""

    role_id: RoleId
    display_name: DisplayName
    description: Description = ""
    jwt_role_mappings: NameList = Field(default_factory=list)
    inherits_from: RoleIdList = Field(default_factory=list)
    granted_tools: NameList = Field(default_factory=list)
    granted_models: NameList = Field(default_factory=list)
    priority: Priority = 0
    is_system_role: bool = False
    enabled: bool = True
    created_at: str
    updated_at: str


class AppRoleCreate(ApiModel):
    """The body of a new role; system roles are only made by the seeder."""

    role_id: RoleId
    display_name: DisplayName
    description: Description = ""
    jwt_role_mappings: NameList = Field(default_factory=list)
    inherits_from: RoleIdList = Field(default_factory=list)
    granted_tools: NameList = Field(default_factory=list)
    granted_models: NameList = Field(default_factory=list)
    priority: Priority = 0
    enabled: bool = True


class AppRoleUpdate(PartialUpdate):
    """A partial update (see partial_updates.py): only the fields sent change, a null clears a field that may be
    empty (description, the lists) and is a 422 on any other; the id and the system flag never change."""

    record: ClassVar[type[BaseModel]] = AppRole

    display_name: DisplayName | None = None
    description: Description | None = None
    jwt_role_mappings: NameList | None = None
    inherits_from: RoleIdList | None = None
    granted_tools: NameList | None = None
    granted_models: NameList | None = None
    priority: Priority | None = None
    enabled: bool | None = None

    def apply_to(self, role: AppRole, *, updated_at: str) -> AppRole:
        """`role` with the sent fields replaced and `updated_at` set, validated as a whole role (InvalidInput,
        422, otherwise); it shares no list with `role` or with this request."""
        return merged(role, {**self.sent_fields(), "updated_at": updated_at})


class EffectivePermissions(ApiModel):
    """What a set of token roles may do, resolved from the app roles that apply (see permissions.py)."""

    app_roles: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    is_admin: bool = False
    # The caller's token roles, set where a request's permissions are resolved (shared/dependencies.py) for the
    # one rule that matches them directly: a managed model's `availableToRoles`. Never sent.
    token_roles: list[str] = Field(default_factory=list, exclude=True)

    def allows_tool(self, tool_id: str) -> bool:
        """Whether the tool may be used: listed, or "*" granted (which covers tools added later)."""
        return WILDCARD in self.tools or tool_id in self.tools

    def allows_model(self, model_id: str) -> bool:
        """Whether the model may be used: listed, or "*" granted (which covers models added later)."""
        return WILDCARD in self.models or model_id in self.models


class AppRoleRead(AppRole):
    """A role as an admin reads it, with what it grants on its own, its inheritance included."""

    effective_permissions: EffectivePermissions
