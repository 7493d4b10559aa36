"""`fetch_url_content` as the model calls it (through Strands): loopback pages read, and everything the guard and
the limits refuse answered as a tool error, never an exception."""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Sequence
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest

from apis.shared.config import ToolsSettings
from apis.shared.tools.http_fetch import FetchLimits, fetch
from apis.shared.tools.network_guard import AddressPolicy, Resolver, UrlRefused
from apis.shared.tools.url_content import TRUNCATION_MARKER, build_fetch_url_content
from tests.fakes.server import FakeProviderState, RunningFake
from tests.shared.tools.pages import TLS_HOST, call_tool, running_pages, running_tls_pages


def tool_settings(**overrides: Any) -> ToolsSettings:
    return ToolsSettings(**{"tools_allow_private_networks": True, **overrides})


def fetch_tool(resolve: Resolver | None = None, verify: ssl.SSLContext | bool = True, **overrides: Any) -> Any:
    if resolve is None:
        return build_fetch_url_content(tool_settings(**overrides), verify=verify)
    return build_fetch_url_content(tool_settings(**overrides), resolve=resolve, verify=verify)


def answer(result: dict[str, Any]) -> dict[str, Any]:
    assert result["status"] == "success", result
    [block] = result["content"]
    payload: dict[str, Any] = block["json"]
    return payload


def refusal(result: dict[str, Any]) -> str:
    assert result["status"] == "error", result
    [block] = result["content"]
    text: str = block["text"]
    return text


@pytest.fixture(scope="module")
def served_pages() -> Iterator[RunningFake[FakeProviderState]]:
    with running_pages() as running:
        yield running


@pytest.fixture
def pages(served_pages: RunningFake[FakeProviderState]) -> RunningFake[FakeProviderState]:
    served_pages.state.requests.clear()
    return served_pages


async def test_a_page_is_read_as_text_with_its_title(pages: RunningFake[FakeProviderState]) -> None:
    result = await call_tool(fetch_tool(), url=f"{pages.url}/article")

    page = answer(result)
    assert result["toolUseId"] == "call-1"
    assert page["success"] is True
    assert page["title"] == "The Ferry Timetable"
    assert page["text_content"] == (
        "# Ferry timetable\n\nThe first ferry leaves at 06:40.\n\n- Weekdays: every hour\n- Sundays: every two hours"
    )
    assert (page["url"], page["final_url"]) == (f"{pages.url}/article", f"{pages.url}/article")
    assert (page["status_code"], page["content_type"]) == (200, "text/html; charset=utf-8")
    assert (page["text_length"], page["truncated"]) == (len(page["text_content"]), False)


async def test_plain_text_and_json_come_back_as_they_are(pages: RunningFake[FakeProviderState]) -> None:
    plain = answer(await call_tool(fetch_tool(), url=f"{pages.url}/plain"))
    data = answer(await call_tool(fetch_tool(), url=f"{pages.url}/data.json"))

    assert (plain["text_content"], plain["title"]) == ("line one\n  line two, indented\n", None)
    assert data["text_content"] == '{"ferries":[{"at":"06:40"}]}'


async def test_a_compressed_page_is_inflated(pages: RunningFake[FakeProviderState]) -> None:
    page = answer(await call_tool(fetch_tool(), url=f"{pages.url}/gzip"))

    assert page["title"] == "The Ferry Timetable"
    assert page["text_content"].startswith("# Ferry timetable")


async def test_other_content_types_and_encodings_are_tool_errors(pages: RunningFake[FakeProviderState]) -> None:
    image = await call_tool(fetch_tool(), url=f"{pages.url}/image.png")
    brotli = await call_tool(fetch_tool(), url=f"{pages.url}/brotli")

    assert refusal(image) == "the page is image/png, which this tool cannot read: it reads HTML, plain text and JSON"
    assert refusal(brotli) == "the page is compressed with br, which this tool cannot read"


async def test_an_http_error_is_a_tool_error(pages: RunningFake[FakeProviderState]) -> None:
    result = await call_tool(fetch_tool(), url=f"{pages.url}/missing")

    assert refusal(result) == f"{pages.url}/missing answered HTTP 404 Not Found"


async def test_loopback_is_refused_unless_the_setting_allows_it(pages: RunningFake[FakeProviderState]) -> None:
    port = pages.url.rsplit(":", 1)[1]
    strict = build_fetch_url_content(ToolsSettings(tools_allow_private_networks=False))

    for url in (f"{pages.url}/article", f"http://localhost:{port}/article", f"http://[::1]:{port}/"):
        assert "this tool may not reach it" in refusal(await call_tool(strict, url=url))
    assert pages.state.requests == []


@pytest.mark.parametrize("allow_private", [False, True])
async def test_the_metadata_service_is_always_refused(allow_private: bool) -> None:
    tool = build_fetch_url_content(ToolsSettings(tools_allow_private_networks=allow_private))

    result = await call_tool(tool, url="http://169.254.169.254/latest/meta-data/iam/security-credentials/")

    assert refusal(result) == (
        "169.254.169.254 is a link-local address (the cloud metadata service lives there): this tool may not reach it"
    )


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/", "gopher://127.0.0.1:70/"])
async def test_other_schemes_are_tool_errors(url: str) -> None:
    result = await call_tool(fetch_tool(), url=url)

    assert refusal(result).startswith("only http:// and https:// URLs can be fetched")


async def test_a_redirect_to_the_metadata_service_is_refused(pages: RunningFake[FakeProviderState]) -> None:
    url = f"{pages.url}/redirect?to=http://169.254.169.254/latest/meta-data/"

    result = await call_tool(fetch_tool(), url=url)

    assert "169.254.169.254 is a link-local address" in refusal(result)
    assert [request.path for request in pages.state.requests] == ["/redirect"]


@pytest.mark.parametrize(
    "target", ["http://10.0.0.1/admin", "http://192.168.1.1/", "http://[fc00::1]/", "http://[::ffff:10.1.1.1]/"]
)
async def test_a_redirect_to_a_private_address_is_refused(pages: RunningFake[FakeProviderState], target: str) -> None:
    """Loopback is allowed (the test's page lives there) but no other private range: each hop is judged again."""
    loopback_only = AddressPolicy((ip_network("127.0.0.0/8"),))
    limits = FetchLimits.from_settings(ToolsSettings())

    with pytest.raises(UrlRefused, match="is a private address: this tool may not reach it"):
        await fetch(f"{pages.url}/redirect?to={target}", limits=limits, policy=loopback_only)

    assert [request.path for request in pages.state.requests] == ["/redirect"]


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/"])
async def test_a_redirect_to_another_scheme_is_refused(pages: RunningFake[FakeProviderState], target: str) -> None:
    result = await call_tool(fetch_tool(), url=f"{pages.url}/redirect?to={target}")

    assert refusal(result).startswith("only http:// and https:// URLs can be fetched")


async def test_redirects_are_followed_and_the_final_url_reported(pages: RunningFake[FakeProviderState]) -> None:
    url = f"{pages.url}/redirect?status=301&to=/redirect%3Fto%3D/plain"

    page = answer(await call_tool(fetch_tool(tools_fetch_max_redirects=2), url=url))

    assert (page["url"], page["final_url"]) == (url, f"{pages.url}/plain")
    assert page["text_content"].startswith("line one")


async def test_redirects_stop_at_the_limit(pages: RunningFake[FakeProviderState]) -> None:
    looped = await call_tool(fetch_tool(tools_fetch_max_redirects=3), url=f"{pages.url}/loop")
    none_allowed = await call_tool(fetch_tool(tools_fetch_max_redirects=0), url=f"{pages.url}/redirect?to=/plain")

    assert refusal(looped) == "the page redirected more than 3 times"
    assert [request.path for request in pages.state.requests] == ["/loop"] * 4 + ["/redirect"]
    assert refusal(none_allowed) == "the page redirected more than 0 times"


async def test_reading_stops_at_the_byte_limit(pages: RunningFake[FakeProviderState]) -> None:
    page = answer(await call_tool(fetch_tool(tools_fetch_max_bytes=2048), url=f"{pages.url}/big?size=100000"))

    assert page["truncated"] is True
    assert page["text_content"] == "x" * 2048 + TRUNCATION_MARKER


async def test_a_page_exactly_at_the_byte_limit_is_whole(pages: RunningFake[FakeProviderState]) -> None:
    page = answer(await call_tool(fetch_tool(tools_fetch_max_bytes=2048), url=f"{pages.url}/big?size=2048"))

    assert (page["truncated"], page["text_content"]) == (False, "x" * 2048)


async def test_a_compression_bomb_is_inflated_only_up_to_the_byte_limit(pages: RunningFake[FakeProviderState]) -> None:
    page = answer(await call_tool(fetch_tool(tools_fetch_max_bytes=4096), url=f"{pages.url}/bomb"))

    assert page["truncated"] is True
    assert page["text_content"] == "\x00" * 4096 + TRUNCATION_MARKER


async def test_text_is_cut_at_the_character_limit_and_marked(pages: RunningFake[FakeProviderState]) -> None:
    page = answer(await call_tool(fetch_tool(tools_fetch_max_chars=1000), url=f"{pages.url}/long?words=2000"))

    assert page["truncated"] is True
    assert page["text_content"].endswith(TRUNCATION_MARKER)
    assert len(page["text_content"]) == 1000 + len(TRUNCATION_MARKER) == page["text_length"]


async def test_a_page_that_does_not_answer_in_time_is_a_tool_error(pages: RunningFake[FakeProviderState]) -> None:
    result = await call_tool(fetch_tool(tools_fetch_timeout_seconds=0.5), url=f"{pages.url}/hang")

    assert refusal(result) == f"fetching {pages.url}/hang took longer than 0.5 seconds"


async def test_a_closed_port_is_a_tool_error() -> None:
    from tests.fakes.server import closed_port_url

    url = closed_port_url()

    assert refusal(await call_tool(fetch_tool(), url=url)).startswith("could not connect to 127.0.0.1")


def counting_resolver(answers: Sequence[Sequence[str]], calls: list[str]) -> Resolver:
    """Answers each lookup with the next of `answers`: a DNS server that changes its mind (rebinding)."""

    async def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    return resolve


async def test_the_connection_goes_to_the_address_that_was_checked(pages: RunningFake[FakeProviderState]) -> None:
    """`rebind.test` exists only in this resolver, which would answer the metadata address if asked again: the
    page is fetched from the checked address, with the host's name in `Host`, and nobody asks twice."""
    port = pages.url.rsplit(":", 1)[1]
    calls: list[str] = []
    resolve = counting_resolver([["127.0.0.1"], ["169.254.169.254"]], calls)

    page = answer(await call_tool(fetch_tool(resolve), url=f"http://rebind.test:{port}/host"))

    assert page["text_content"] == f"rebind.test:{port}"
    assert page["final_url"] == f"http://rebind.test:{port}/host"
    assert calls == ["rebind.test"]


async def test_each_redirect_hop_is_resolved_and_judged_again(pages: RunningFake[FakeProviderState]) -> None:
    port = pages.url.rsplit(":", 1)[1]
    calls: list[str] = []
    resolve = counting_resolver([["127.0.0.1"], ["169.254.169.254"]], calls)
    url = f"http://rebind.test:{port}/redirect?to=http://rebind.test:{port}/plain"

    result = await call_tool(fetch_tool(resolve), url=url)

    assert refusal(result) == (
        "rebind.test resolves to 169.254.169.254, which is a link-local address (the cloud metadata service lives "
        "there): this tool may not reach it"
    )
    assert calls == ["rebind.test", "rebind.test"]


async def test_https_is_pinned_to_the_checked_address_and_verified_for_the_host(tmp_path: Path) -> None:
    """The certificate names only `pinned.test`: the fetch succeeds only if TLS was told that name (SNI and the
    hostname check), although the connection went to 127.0.0.1, which the system resolver never gave."""
    with running_tls_pages(tmp_path) as tls:
        resolve = counting_resolver([["127.0.0.1"]], [])
        tool = fetch_tool(resolve, verify=tls.client_context)

        page = answer(await call_tool(tool, url=f"{tls.url}/host"))
        wrong_name = await call_tool(tool, url=f"https://other.test:{tls.port}/host")
        untrusted = await call_tool(fetch_tool(resolve), url=f"{tls.url}/host")

    assert page["text_content"] == f"{TLS_HOST}:{tls.port}"
    assert refusal(wrong_name).startswith("could not connect to other.test")
    assert refusal(untrusted).startswith(f"could not connect to {TLS_HOST}")
    assert len(tls.state.requests) == 1
