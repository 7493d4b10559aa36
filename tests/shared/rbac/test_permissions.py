"""Permission resolution: worked examples, then properties over random role sets (hypothesis)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import assume, given
from hypothesis import strategies as st

from apis.shared.rbac import DEFAULT_ROLE, SYSTEM_ADMIN, AppRole, EffectivePermissions, resolve
from tests.shared.rbac.builders import make_role

ROLE_IDS = [DEFAULT_ROLE, SYSTEM_ADMIN, "staff", "ops", "guest", "research", "billing"]
TOKEN_ROLES = ["admin", "staff", "Staff", "ops", "guest", "nobody"]
GRANTS = ["*", "calculator", "search", "code", "gpt-4o", "local-echo"]


@st.composite
def roles_with_id(draw: st.DrawFn, role_id: str) -> AppRole:
    """A role with random mappings, parents (possibly missing ones), grants and flags."""

    def names(pool: list[str]) -> list[str]:
        return draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))

    return make_role(
        role_id,
        jwt_role_mappings=names(TOKEN_ROLES),
        inherits_from=names(ROLE_IDS),
        granted_tools=names(GRANTS),
        granted_models=names(GRANTS),
        priority=draw(st.integers(-5, 5)),
        is_system_role=draw(st.booleans()),
        enabled=draw(st.booleans()),
    )


@st.composite
def role_sets(draw: st.DrawFn, ids: Sequence[str] = ROLE_IDS) -> list[AppRole]:
    """Some of the role ids, each with random mappings, parents (possibly missing ones) and grants."""
    chosen = draw(st.lists(st.sampled_from(list(ids)), unique=True, max_size=len(ids)))
    return [draw(roles_with_id(role_id)) for role_id in chosen]


token_sets = st.lists(st.sampled_from(TOKEN_ROLES), max_size=4, unique=True)


def without(roles: Sequence[AppRole], role_id: str) -> list[AppRole]:
    return [role for role in roles if role.role_id != role_id]


def replaced(roles: Sequence[AppRole], role: AppRole) -> list[AppRole]:
    return [role if stored.role_id == role.role_id else stored for stored in roles]


def grantors(result: EffectivePermissions, roles: Sequence[AppRole]) -> list[AppRole]:
    """The applied roles of `result` and their enabled direct parents."""
    by_id = {role.role_id: role for role in roles}
    applied = [by_id[role_id] for role_id in result.app_roles]
    parents = [by_id[p] for role in applied for p in role.inherits_from if p in by_id and by_id[p].enabled]
    return applied + parents


# Worked examples.


def test_a_role_applies_through_an_exact_case_sensitive_mapping() -> None:
    staff = make_role("staff", jwt_role_mappings=["Staff"], granted_tools=["calculator"])
    default = make_role(DEFAULT_ROLE, granted_models=["local-echo"])

    assert resolve(["Staff"], [staff, default]).app_roles == ["staff"]
    assert resolve(["staff"], [staff, default]).app_roles == [DEFAULT_ROLE]
    assert resolve(["Staff "], [staff, default]).app_roles == [DEFAULT_ROLE]


def test_grants_are_the_union_of_the_applied_roles_sorted() -> None:
    staff = make_role("staff", jwt_role_mappings=["staff"], granted_tools=["search", "calculator"])
    ops = make_role("ops", jwt_role_mappings=["ops"], granted_tools=["code", "search"], granted_models=["gpt-4o"])

    result = resolve(["ops", "staff", "unmapped"], [staff, ops])

    assert result == EffectivePermissions(
        app_roles=["ops", "staff"], tools=["calculator", "code", "search"], models=["gpt-4o"], is_admin=False
    )


def test_inheritance_is_one_level_and_skips_disabled_or_missing_parents() -> None:
    grandparent = make_role("grandparent", granted_tools=["far"])
    parent = make_role("parent", granted_tools=["near"], inherits_from=["grandparent"])
    off = make_role("off", granted_tools=["disabled"], enabled=False)
    child = make_role("child", jwt_role_mappings=["t"], inherits_from=["parent", "off", "missing"])

    result = resolve(["t"], [grandparent, parent, off, child])

    assert (result.app_roles, result.tools) == (["child"], ["near"])


def test_a_cycle_of_parents_is_harmless() -> None:
    one = make_role("one", jwt_role_mappings=["t"], inherits_from=["two"], granted_tools=["a"])
    two = make_role("two", inherits_from=["one"], granted_tools=["b"])

    assert resolve(["t"], [one, two]).tools == ["a", "b"]


def test_system_admin_as_role_or_direct_parent_makes_an_admin() -> None:
    admin = make_role(SYSTEM_ADMIN, jwt_role_mappings=["admin"], granted_tools=["*"], granted_models=["*"])
    deputy = make_role("deputy", jwt_role_mappings=["deputy"], inherits_from=[SYSTEM_ADMIN])
    once_removed = make_role("once_removed", jwt_role_mappings=["far"], inherits_from=["deputy"])
    roles = [admin, deputy, once_removed]

    assert resolve(["admin"], roles).is_admin is True
    assert resolve(["deputy"], roles).is_admin is True
    assert resolve(["deputy"], roles).allows_model("anything")
    assert resolve(["far"], roles).is_admin is False
    assert resolve(["deputy"], replaced(roles, admin.model_copy(update={"enabled": False}))).is_admin is False


def test_an_admin_token_role_makes_a_system_admin_whatever_the_stored_role_says() -> None:
    stored = make_role(SYSTEM_ADMIN, jwt_role_mappings=["admin"], granted_tools=["*"], granted_models=["*"])
    unmapped = stored.model_copy(update={"jwt_role_mappings": []})
    disabled = stored.model_copy(update={"enabled": False})
    default = make_role(DEFAULT_ROLE, granted_models=["local-echo"])
    expected = EffectivePermissions(app_roles=[SYSTEM_ADMIN], tools=["*"], models=["*"], is_admin=True)

    for roles in ([stored, default], [unmapped, default], [disabled, default], [default], []):
        assert resolve(["admin"], roles, admin_jwt_roles=["admin"]) == expected
        assert resolve(["ops", "admin"], roles, admin_jwt_roles=["root", "admin"]) == expected
    assert resolve(["admin"], [unmapped, default], admin_jwt_roles=["ops"]).is_admin is False
    assert resolve(["staff"], [stored, default], admin_jwt_roles=["admin"]).is_admin is False


def test_the_default_role_applies_only_when_enabled_and_nothing_else_does() -> None:
    default = make_role(DEFAULT_ROLE, granted_models=["local-echo"])
    staff = make_role("staff", jwt_role_mappings=["staff"])

    assert resolve([], [default, staff]).models == ["local-echo"]
    assert resolve(["staff"], [default, staff]).models == []
    assert resolve([], [default.model_copy(update={"enabled": False}), staff]) == EffectivePermissions()
    assert resolve([], []) == EffectivePermissions()


# Properties.


@given(roles=role_sets(), tokens=token_sets)
def test_results_are_sorted_and_free_of_repeats(roles: list[AppRole], tokens: list[str]) -> None:
    result = resolve(tokens, roles)

    for values in (result.app_roles, result.tools, result.models):
        assert values == sorted(set(values))


@given(roles=role_sets(), tokens=token_sets)
def test_grants_come_exactly_from_applied_roles_and_their_direct_parents(
    roles: list[AppRole], tokens: list[str]
) -> None:
    result = resolve(tokens, roles)
    sources = grantors(result, roles)

    assert all(role.enabled for role in sources)
    assert set(result.tools) == {tool for role in sources for tool in role.granted_tools}
    assert set(result.models) == {model for role in sources for model in role.granted_models}
    assert result.is_admin == any(role.role_id == SYSTEM_ADMIN for role in sources)


@given(roles=role_sets(), tokens=token_sets, data=st.data())
def test_a_role_that_neither_applies_nor_is_inherited_contributes_nothing(
    roles: list[AppRole], tokens: list[str], data: st.DataObject
) -> None:
    result = resolve(tokens, roles)
    involved = {role.role_id for role in grantors(result, roles)}
    bystanders = [role for role in roles if role.role_id not in involved]
    assume(bystanders)
    bystander = data.draw(st.sampled_from(bystanders))

    # Whatever it would grant (everything, and parents of every kind), the result does not move.
    generous = bystander.model_copy(
        update={"granted_tools": ["*"], "granted_models": ["*"], "inherits_from": [SYSTEM_ADMIN, *ROLE_IDS]}
    )

    assert resolve(tokens, replaced(roles, generous)) == result


@given(roles=role_sets(), tokens=token_sets, data=st.data())
def test_a_disabled_role_counts_as_absent_even_as_a_parent(
    roles: list[AppRole], tokens: list[str], data: st.DataObject
) -> None:
    assume(roles)
    chosen = data.draw(st.sampled_from(roles))
    disabled = chosen.model_copy(update={"enabled": False, "granted_tools": ["*"], "granted_models": ["*"]})

    with_disabled = resolve(tokens, replaced(roles, disabled))

    assert with_disabled == resolve(tokens, without(roles, chosen.role_id))
    assert chosen.role_id not in with_disabled.app_roles


@given(roles=role_sets(ids=[role_id for role_id in ROLE_IDS if role_id != DEFAULT_ROLE]), tokens=token_sets)
def test_without_a_default_role_another_token_role_never_removes_a_permission(
    roles: list[AppRole], tokens: list[str]
) -> None:
    before = resolve(tokens, roles)
    for extra in TOKEN_ROLES:
        after = resolve([*tokens, extra], roles)
        assert set(before.app_roles) <= set(after.app_roles)
        assert set(before.tools) <= set(after.tools)
        assert set(before.models) <= set(after.models)
        assert after.is_admin or not before.is_admin


@given(roles=role_sets(), tokens=token_sets, extra=st.sampled_from(TOKEN_ROLES), data=st.data())
def test_once_a_mapped_role_applies_another_token_role_never_removes_a_permission(
    roles: list[AppRole], tokens: list[str], extra: str, data: st.DataObject
) -> None:
    # The one exception to monotonicity is by design: the default role's grants are a fallback, and they
    # stop when a token role first selects a role of its own. Past that point, more roles only add.
    assume(roles)
    anchor = data.draw(st.sampled_from(roles))
    anchored = anchor.model_copy(update={"enabled": True, "jwt_role_mappings": [*anchor.jwt_role_mappings, "anchor"]})
    roles, tokens = replaced(roles, anchored), [*tokens, "anchor"]
    before, after = resolve(tokens, roles), resolve([*tokens, extra], roles)

    assert set(before.app_roles) <= set(after.app_roles)
    assert set(before.tools) <= set(after.tools)
    assert set(before.models) <= set(after.models)
    assert after.is_admin or not before.is_admin


@given(roles=role_sets(), tokens=token_sets)
def test_the_default_role_applies_exactly_when_nothing_else_does(roles: list[AppRole], tokens: list[str]) -> None:
    # A default role that is itself mapped from the token is simply one more mapped role; leave that case out.
    roles = [
        role.model_copy(update={"jwt_role_mappings": []}) if role.role_id == DEFAULT_ROLE else role for role in roles
    ]
    default = next((role for role in roles if role.role_id == DEFAULT_ROLE), None)
    others = resolve(tokens, without(roles, DEFAULT_ROLE)).app_roles

    applied = resolve(tokens, roles).app_roles

    if others:
        assert applied == others
    elif default is not None and default.enabled:
        assert applied == [DEFAULT_ROLE]
    else:
        assert applied == []


@given(
    roles=role_sets(),
    tokens=token_sets,
    ids=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=5),
)
def test_a_wildcard_allows_any_id_and_otherwise_only_listed_ids_are_allowed(
    roles: list[AppRole], tokens: list[str], ids: list[str]
) -> None:
    result = resolve(tokens, roles)

    for candidate in [*ids, *GRANTS]:
        assert result.allows_tool(candidate) == ("*" in result.tools or candidate in result.tools)
        assert result.allows_model(candidate) == ("*" in result.models or candidate in result.models)
    if "*" in result.tools:
        assert all(result.allows_tool(candidate) for candidate in ids)
    if "*" in result.models:
        assert all(result.allows_model(candidate) for candidate in ids)


@given(
    chain=st.permutations(["child", "parent", "grandparent"]),
    tokens=st.sampled_from([["t"], ["t", "other"]]),
)
def test_a_grandparents_grants_never_reach_the_child(chain: list[str], tokens: list[str]) -> None:
    # The order in which roles are listed must not matter.
    roles = {
        "child": make_role("child", jwt_role_mappings=["t"], inherits_from=["parent"]),
        "parent": make_role("parent", inherits_from=["grandparent"], granted_tools=["near"]),
        "grandparent": make_role("grandparent", granted_tools=["far"], granted_models=["*"]),
    }

    result = resolve(tokens, [roles[name] for name in chain])

    assert result.tools == ["near"]
    assert result.models == []
