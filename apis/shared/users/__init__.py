"""Users: profiles of the people who sign in, synced from their tokens, and the admins' suspension switch."""

from apis.shared.users import detail, service, sync
from apis.shared.users.detail import UserDetail
from apis.shared.users.exceptions import UserNotFound, UserSuspended
from apis.shared.users.models import UserLogin, UserProfile, UserStatus, UserUpdate, email_domain_of
from apis.shared.users.repository import UserRepository
from apis.shared.users.sync import LoginSync

__all__ = [
    "LoginSync",
    "UserDetail",
    "UserLogin",
    "UserNotFound",
    "UserProfile",
    "UserRepository",
    "UserStatus",
    "UserSuspended",
    "UserUpdate",
    "detail",
    "email_domain_of",
    "service",
    "sync",
]
