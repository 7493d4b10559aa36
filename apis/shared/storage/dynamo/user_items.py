"""Keys of user profiles in the shared table, and how a profile becomes an item and back.

    profile  pk=USER#{userId}     sk=PROFILE           gsi1pk=USERS  gsi1sk={userId}  countedDomain
    domain   pk=USERDOMAINS       sk=DOMAIN#{domain}   domain, users (how many profiles have it)

The profile shares its user's partition (the key builder is schema.py's, which escapes the id); joining
gsi1 under the kind USERS lists every user by id for admins. `nameLower` and `emailLower` serve the search.
`countedDomain` is the domain the profile is counted under ("" for none; absent on profiles written before
the counts, which are counted at their next sign-in), so the admins' list of domains is one Query of the
USERDOMAINS partition instead of a read of every profile.
"""

from __future__ import annotations

from typing import Any

from apis.shared.storage.dynamo import schema
from apis.shared.storage.dynamo.client import Item, deserialize, serialize
from apis.shared.users.models import UserLogin, UserProfile

PROFILE_SK = "PROFILE"
USERS_KIND = "USERS"  # gsi1pk of every profile
NAME_LOWER = "nameLower"
EMAIL_LOWER = "emailLower"
STATUS = "status"
CREATED_AT = "createdAt"
EMAIL_DOMAIN = "emailDomain"
COUNTED_DOMAIN = "countedDomain"
DOMAINS_PARTITION = "USERDOMAINS"
DOMAIN_SK_PREFIX = "DOMAIN#"
DOMAIN = "domain"
DOMAIN_USERS = "users"
_MAX_DOMAIN_LENGTH = 253

_PROFILE_FIELDS = tuple(field.alias or name for name, field in UserProfile.model_fields.items())


def profile_key(user_id: str) -> Item:
    return serialize({schema.PARTITION_KEY: schema.user_pk(user_id), schema.SORT_KEY: PROFILE_SK})


def domain_key(domain: str) -> Item:
    """The counter item of an email domain (domains are lower case, as `email_domain_of` makes them)."""
    return serialize({schema.PARTITION_KEY: DOMAINS_PARTITION, schema.SORT_KEY: f"{DOMAIN_SK_PREFIX}{domain}"})


def counted_domain(login: UserLogin) -> str:
    """The domain a login's profile is counted under: "" for none, and for one longer than any DNS name
    (253), which could not be a key and is no organisation an admin filters by."""
    domain = login.email_domain or ""
    return domain if len(domain) <= _MAX_DOMAIN_LENGTH else ""


def user_list_sk(user_id: str) -> str:
    """The sort key on gsi1: the bare id, so the list runs in user id order."""
    return user_id


def login_attributes(login: UserLogin, *, at: str) -> dict[str, Any]:
    """What a sign-in writes: the claims, lastLoginAt, the search fields and the gsi1 keys; never status."""
    profile = login.new_profile(at=at)
    dumped = profile.model_dump(mode="json", by_alias=True, exclude={"status", "created_at"})
    return {
        **dumped,
        NAME_LOWER: (login.name or "").lower(),
        EMAIL_LOWER: (login.email or "").lower(),
        schema.BY_KIND.partition_key: USERS_KIND,
        schema.BY_KIND.sort_key: user_list_sk(login.user_id),
    }


def user_id_of(item: Item) -> str:
    """The user id of a profile item (its gsi1 sort key), which is there even when the profile cannot be read."""
    return str(item[schema.BY_KIND.sort_key]["S"])


def profile_from_item(item: Item) -> UserProfile:
    values = deserialize(item)
    return UserProfile.model_validate({name: values[name] for name in _PROFILE_FIELDS if name in values})
