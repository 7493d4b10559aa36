"""The trial sign-in page (local mode, LOCAL_SIGNIN_ENABLED): type a user name, go back to the web client.

It is safe by construction rather than by care: every value written into the page is escaped, the form
carries the signed state (a forged submission yields a code the client refuses, since the state is not the
one it keeps in sessionStorage: no CSRF to fear, and no cookie to steal), the page redirects only to the
configured callback URL, and its headers forbid framing, scripts and referrers.
"""

from __future__ import annotations

from html import escape
from string import Template
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from apis.app_api.auth.dependencies import LocalSignInDep
from apis.shared.auth import user_name_problem
from apis.shared.errors import PayloadTooLarge, RuleViolation

router = APIRouter(prefix="/auth/local", include_in_schema=False)

MAX_FORM_BYTES = 16_384
FORM_TYPE = "application/x-www-form-urlencoded"

_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in (trial)</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 26rem; margin: 4rem auto; padding: 0 1rem; color: #222; }
label, input, button { display: block; width: 100%; box-sizing: border-box; font-size: 1rem; }
input { margin: .5rem 0 1rem; padding: .5rem; }
button { padding: .6rem; }
.note { color: #555; font-size: .9rem; }
.problem { color: #a00; }
</style>
</head>
<body>
<h1>Sign in</h1>
<p class="note">A trial sign-in: any user name is accepted, with no password.</p>
$problem
<form method="post" action="sign-in">
<input type="hidden" name="state" value="$state">
<label for="user_name">User name</label>
<input id="user_name" name="user_name" value="$user_name" required maxlength="64" autocomplete="username" autofocus>
<button type="submit">Sign in</button>
</form>
</body>
</html>
""")


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(flow: LocalSignInDep, state: Annotated[str, Query(max_length=4096)]) -> Response:
    """The form; a state that is not live is refused before anything is shown."""
    flow.check_state(state)
    return _page(state=state, user_name="", problem=None, form_target=flow.web_client.origin)


@router.post("/sign-in")
async def sign_in(request: Request, flow: LocalSignInDep) -> Response:
    """Back to the client's callback with a code for the typed name, or the form again saying what is wrong."""
    form = await _form(request)
    state = form.get("state", "")
    user_name = form.get("user_name", "").strip()
    flow.check_state(state)
    if (problem := user_name_problem(user_name)) is not None:
        return _page(state=state, user_name=user_name, problem=problem, form_target=flow.web_client.origin, status=400)
    return RedirectResponse(flow.grant(state=state, user_name=user_name), status_code=303)


def _page(*, state: str, user_name: str, problem: str | None, form_target: str, status: int = 200) -> HTMLResponse:
    body = _PAGE.substitute(
        state=escape(state),
        user_name=escape(user_name),
        problem=f'<p class="problem" role="alert">{escape(problem)}</p>' if problem else "",
    )
    headers = {
        # The form posts here and is then redirected to the client: form-action must allow both (browsers
        # check the redirect's target too).
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {form_target};"
            " frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",  # the state is in the page's URL
        "Cache-Control": "no-store",
    }
    return HTMLResponse(body, status_code=status, headers=headers)


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form's first value per field, read up to MAX_FORM_BYTES."""
    if request.headers.get("content-type", "").split(";", 1)[0].strip().lower() != FORM_TYPE:
        raise RuleViolation(f"the sign-in form is sent as {FORM_TYPE}", code="invalid_form")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PayloadTooLarge("the sign-in form is too large")
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}
