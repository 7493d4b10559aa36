"""FastAPI dependencies that both services share: the bearer token's user, and what the lifespan put on
`app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from apis.shared.assistants import AssistantRepository, DocumentRepository, Embedder, KnowledgeIndex
from apis.shared.auth import AuthenticatedUser, TokenValidator
from apis.shared.config import Settings
from apis.shared.costs import CostRepository
from apis.shared.errors import AuthenticationError, ConfigurationError, ForbiddenError
from apis.shared.files import BlobStore, FileRepository
from apis.shared.models import ModelRepository
from apis.shared.rate_limits import TurnRateLimiter
from apis.shared.rbac import EffectivePermissions, PermissionCache, RoleRepository
from apis.shared.sessions import SessionRepository
from apis.shared.storage import Storage
from apis.shared.users import LoginSync, UserLogin, UserProfile, UserRepository


async def authenticate(request: Request) -> AuthenticatedUser:
    """Validate the bearer token and keep the user on `request.state` for logging and metrics."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("missing bearer token")
    validator: TokenValidator | None = getattr(request.app.state, "token_validator", None)
    if validator is None:
        raise ConfigurationError("no token validator on app.state: the service's startup must build one")
    user = await validator.validate(token)
    request.state.user = user
    return user


TokenUser = Annotated[AuthenticatedUser, Depends(authenticate)]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_storage(request: Request) -> Storage:
    return _storage(request)


async def get_sessions(request: Request) -> SessionRepository:
    return _storage(request).sessions


async def get_models(request: Request) -> ModelRepository:
    return _storage(request).models


async def get_costs(request: Request) -> CostRepository:
    return _storage(request).costs


async def get_files(request: Request) -> FileRepository:
    return _storage(request).files


async def get_assistants(request: Request) -> AssistantRepository:
    return _storage(request).assistants


async def get_documents(request: Request) -> DocumentRepository:
    return _storage(request).documents


async def get_knowledge(request: Request) -> KnowledgeIndex:
    return _storage(request).knowledge


async def get_embedder(request: Request) -> Embedder | None:
    """The configured embedding model, or None: knowledge bases then search lexically only."""
    embedder: Embedder | None = request.app.state.embedder
    return embedder


async def get_rate_limiter(request: Request) -> TurnRateLimiter:
    limiter: TurnRateLimiter = request.app.state.rate_limiter
    return limiter


async def get_blobs(request: Request) -> BlobStore:
    return _storage(request).blobs


async def get_users(request: Request) -> UserRepository:
    return _storage(request).users


async def get_roles(request: Request) -> RoleRepository:
    return _storage(request).roles


async def get_permission_cache(request: Request) -> PermissionCache:
    cache: PermissionCache = request.app.state.permission_cache
    return cache


async def get_active_user(request: Request, user: TokenUser) -> AuthenticatedUser:
    """A valid token of an account that is not suspended; the profile is synced from the token when due.

    The suspension check reads the profile on every request: the two services are separate processes, and a
    suspension must stop the user's next request on either of them.
    """
    sync: LoginSync = request.app.state.login_sync
    login = UserLogin(user_id=user.user_id, email=user.email, name=user.name, roles=user.roles, picture=user.picture)
    request.state.profile = await sync.ensure_active(login)
    return user


async def get_profile(request: Request, user: Annotated[AuthenticatedUser, Depends(get_active_user)]) -> UserProfile:
    profile: UserProfile = request.state.profile
    return profile


async def get_permissions(
    request: Request, user: Annotated[AuthenticatedUser, Depends(get_active_user)]
) -> EffectivePermissions:
    """What the caller's token roles grant, through the app roles (cached per process for a short time), with
    the token roles themselves, which a managed model's `availableToRoles` matches (models/access.py).

    The cache is read off app.state here, not as a dependency of its own: nearly every route resolves this."""
    cache: PermissionCache = request.app.state.permission_cache
    permissions = await cache.permissions_for(user.roles)
    return permissions.model_copy(update={"token_roles": sorted(set(user.roles))})


async def require_admin(
    permissions: Annotated[EffectivePermissions, Depends(get_permissions)],
) -> EffectivePermissions:
    if not permissions.is_admin:
        raise ForbiddenError("this needs the system_admin role", code="admin_required")
    return permissions


async def count_model_call(
    user: Annotated[AuthenticatedUser, Depends(get_active_user)],
    limiter: Annotated[TurnRateLimiter, Depends(get_rate_limiter)],
) -> None:
    """A JSON route that calls a model counts against the caller's rate limit: 429 with Retry-After over it."""
    limiter.check_and_count(user.user_id)


CurrentUser = Annotated[AuthenticatedUser, Depends(get_active_user)]
CurrentProfile = Annotated[UserProfile, Depends(get_profile)]
CallerPermissions = Annotated[EffectivePermissions, Depends(get_permissions)]
AdminPermissions = Annotated[EffectivePermissions, Depends(require_admin)]
AppSettings = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
SessionsRepo = Annotated[SessionRepository, Depends(get_sessions)]
ModelsRepo = Annotated[ModelRepository, Depends(get_models)]
CostsRepo = Annotated[CostRepository, Depends(get_costs)]
FilesRepo = Annotated[FileRepository, Depends(get_files)]
AssistantsRepo = Annotated[AssistantRepository, Depends(get_assistants)]
BlobsStore = Annotated[BlobStore, Depends(get_blobs)]
DocumentsRepo = Annotated[DocumentRepository, Depends(get_documents)]
KnowledgeIdx = Annotated[KnowledgeIndex, Depends(get_knowledge)]
EmbedderDep = Annotated[Embedder | None, Depends(get_embedder)]
UsersRepo = Annotated[UserRepository, Depends(get_users)]
RolesRepo = Annotated[RoleRepository, Depends(get_roles)]
PermissionCacheDep = Annotated[PermissionCache, Depends(get_permission_cache)]
ModelCallAllowed = Depends(count_model_call)
