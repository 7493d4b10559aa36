"""Admin quotas, in the reference's shapes (`/admin/quota/...`): tiers, assignments and overrides (create, list,
read, change, delete), the event log, and the inspector of one user.

Lists answer bare arrays, as the reference does. Tiers, assignments and overrides are whole lists; the event log
is newest first, at most `limit` (the reference's default 50), and the token of the next page, if any, is in the
`X-Next-Token` header (sent back as `next_token`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from apis.app_api.deps import AdminPermissions, CurrentUser
from apis.app_api.quota.dependencies import (
    InspectedUserDep,
    QuotasRepo,
    RecordIdPath,
    TierIdPath,
    UsageDep,
)
from apis.app_api.updates import merged_record_validated
from apis.shared.quota import (
    MAX_EVENT_PAGE,
    AssignmentType,
    QuotaAssignment,
    QuotaAssignmentCreate,
    QuotaAssignmentUpdate,
    QuotaEvent,
    QuotaEventType,
    QuotaOverride,
    QuotaOverrideCreate,
    QuotaOverrideUpdate,
    QuotaTier,
    QuotaTierCreate,
    QuotaTierUpdate,
    UserQuotaInfo,
)
from apis.shared.quota import enforcement as quota_enforcement
from apis.shared.quota import service as quota_service

router = APIRouter(prefix="/admin/quota", tags=["admin: quota"])
NEXT_TOKEN_HEADER = "X-Next-Token"
EnabledOnly = Annotated[bool, Query(description="only the enabled ones")]


def _no_content() -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/tiers", response_model=QuotaTier, status_code=status.HTTP_201_CREATED)
async def create_tier(
    tier_in: QuotaTierCreate, admin: AdminPermissions, caller: CurrentUser, quotas: QuotasRepo
) -> QuotaTier:
    """A new tier; 409 if the id is taken."""
    return await quota_service.create_tier(quotas=quotas, tier_in=tier_in, created_by=caller.user_id)


@router.get("/tiers", response_model=list[QuotaTier])
async def list_tiers(admin: AdminPermissions, quotas: QuotasRepo, enabled_only: EnabledOnly = False) -> list[QuotaTier]:
    return await quota_service.list_tiers(quotas=quotas, enabled_only=enabled_only)


@router.get("/tiers/{tier_id}", response_model=QuotaTier)
async def read_tier(tier_id: TierIdPath, admin: AdminPermissions, quotas: QuotasRepo) -> QuotaTier:
    return await quota_service.get_tier_or_raise(quotas=quotas, tier_id=tier_id)


@router.patch("/tiers/{tier_id}", response_model=QuotaTier)
async def update_tier(
    tier_id: TierIdPath, changes: QuotaTierUpdate, admin: AdminPermissions, quotas: QuotasRepo
) -> QuotaTier:
    """Change the sent fields; a null clears `description` or `dailyCostLimit`."""
    with merged_record_validated():
        return await quota_service.update_tier(quotas=quotas, tier_id=tier_id, changes=changes)


@router.delete("/tiers/{tier_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_tier(tier_id: TierIdPath, admin: AdminPermissions, quotas: QuotasRepo) -> Response:
    """409 while an assignment names the tier."""
    await quota_service.delete_tier(quotas=quotas, tier_id=tier_id)
    return _no_content()


@router.post("/assignments", response_model=QuotaAssignment, status_code=status.HTTP_201_CREATED)
async def create_assignment(
    assignment_in: QuotaAssignmentCreate, admin: AdminPermissions, caller: CurrentUser, quotas: QuotasRepo
) -> QuotaAssignment:
    """A new assignment; 400 for a tier that does not exist, 409 for a user's or app role's second one."""
    return await quota_service.create_assignment(quotas=quotas, assignment_in=assignment_in, created_by=caller.user_id)


@router.get("/assignments", response_model=list[QuotaAssignment])
async def list_assignments(
    admin: AdminPermissions,
    quotas: QuotasRepo,
    assignment_type: AssignmentType | None = None,
    tier_id: Annotated[str | None, Query(max_length=64, description="only those of this tier")] = None,
    enabled_only: EnabledOnly = False,
) -> list[QuotaAssignment]:
    """Highest priority first; the reference client filters by `tier_id`, the reference by `assignment_type`."""
    return await quota_service.list_assignments(
        quotas=quotas, assignment_type=assignment_type, tier_id=tier_id, enabled_only=enabled_only
    )


@router.get("/assignments/{assignment_id}", response_model=QuotaAssignment)
async def read_assignment(assignment_id: RecordIdPath, admin: AdminPermissions, quotas: QuotasRepo) -> QuotaAssignment:
    return await quota_service.get_assignment_or_raise(quotas=quotas, assignment_id=assignment_id)


@router.patch("/assignments/{assignment_id}", response_model=QuotaAssignment)
async def update_assignment(
    assignment_id: RecordIdPath, changes: QuotaAssignmentUpdate, admin: AdminPermissions, quotas: QuotasRepo
) -> QuotaAssignment:
    """Another tier (400 if it does not exist), priority or switch."""
    with merged_record_validated():
        return await quota_service.update_assignment(quotas=quotas, assignment_id=assignment_id, changes=changes)


@router.delete("/assignments/{assignment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_assignment(assignment_id: RecordIdPath, admin: AdminPermissions, quotas: QuotasRepo) -> Response:
    await quota_service.delete_assignment(quotas=quotas, assignment_id=assignment_id)
    return _no_content()


@router.get("/users/{user_id}", response_model=UserQuotaInfo)
async def inspect_user(
    admin: AdminPermissions, user: InspectedUserDep, quotas: QuotasRepo, usage: UsageDep
) -> UserQuotaInfo:
    """What applies to the user and why, their spend against it, and their blocks of the last 24 hours."""
    return await quota_enforcement.user_quota_info(
        quotas=quotas,
        usage=usage,
        user_id=user.user_id,
        email=user.email,
        jwt_roles=user.jwt_roles,
        app_roles=user.app_roles,
    )


@router.post("/overrides", response_model=QuotaOverride, status_code=status.HTTP_201_CREATED)
async def create_override(
    override_in: QuotaOverrideCreate, admin: AdminPermissions, caller: CurrentUser, quotas: QuotasRepo
) -> QuotaOverride:
    """A new override, enabled; 422 for an end before the start or limits that do not fit its type."""
    return await quota_service.create_override(quotas=quotas, override_in=override_in, created_by=caller.user_id)


@router.get("/overrides", response_model=list[QuotaOverride])
async def list_overrides(
    admin: AdminPermissions,
    quotas: QuotasRepo,
    user_id: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    active_only: Annotated[bool, Query(description="only those in force now")] = False,
) -> list[QuotaOverride]:
    """The latest ending first."""
    return await quota_service.list_overrides(quotas=quotas, user_id=user_id, active_only=active_only)


@router.get("/overrides/{override_id}", response_model=QuotaOverride)
async def read_override(override_id: RecordIdPath, admin: AdminPermissions, quotas: QuotasRepo) -> QuotaOverride:
    return await quota_service.get_override_or_raise(quotas=quotas, override_id=override_id)


@router.patch("/overrides/{override_id}", response_model=QuotaOverride)
async def update_override(
    override_id: RecordIdPath, changes: QuotaOverrideUpdate, admin: AdminPermissions, quotas: QuotasRepo
) -> QuotaOverride:
    """Another end, switch or reason; 422 for an end before the start."""
    with merged_record_validated():
        return await quota_service.update_override(quotas=quotas, override_id=override_id, changes=changes)


@router.delete("/overrides/{override_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_override(override_id: RecordIdPath, admin: AdminPermissions, quotas: QuotasRepo) -> Response:
    await quota_service.delete_override(quotas=quotas, override_id=override_id)
    return _no_content()


@router.get("/events", response_model=list[QuotaEvent])
async def list_events(
    response: Response,
    admin: AdminPermissions,
    quotas: QuotasRepo,
    user_id: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    tier_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    event_type: QuotaEventType | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENT_PAGE)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> list[QuotaEvent]:
    """Newest first, each filter given applied; every event when none is (the reference answers none)."""
    page = await quota_service.list_events(
        quotas=quotas, user_id=user_id, tier_id=tier_id, event_type=event_type, limit=limit, page_token=next_token
    )
    if page.next_token is not None:
        response.headers[NEXT_TOKEN_HEADER] = page.next_token
    return page.items
