"""Call-next's short way (`routes.CallNextRoute`): a well-formed call from a device whose token
the process already knows skips FastAPI's dependency solving. It must answer exactly as the
generic way does, refuse what that refuses, and stop at once when the token is revoked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from fastapi import Request
from sqlalchemy import Engine

from kiosk.queue.service import QueueService
from server_sync.server import routes
from server_sync.server.devices import revoke_device
from tests.support.server import Api, LiveServer, device_name, wait_until

# Tokens are cached only while the process hears PostgreSQL's device notifications.
pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def shortcuts(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per call-next request: whether it took the short way."""
    taken: list[bool] = []
    real = routes._call_next_shortcut

    async def spy(request: Request) -> Any:
        found = await real(request)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(routes, "_call_next_shortcut", spy)
    return taken


def answer(response: requests.Response) -> tuple[int, Any, str | None]:
    return response.status_code, response.json(), response.headers.get("WWW-Authenticate")


def test_a_known_counter_takes_the_short_way_and_hears_the_same_answers(
    live: LiveServer,
    api: Callable[[str | None], Api],
    server_service: QueueService,
    shortcuts: list[bool],
) -> None:
    state = live.app.state.kiosk
    counter, admin, kiosk = api("counter"), api("admin"), api("kiosk")
    for _ in range(4):
        server_service.issue("NOI")
    call = "/api/v1/departments/NOI/call-next"

    # The first call looks the token up (the generic way); the next ones are answered
    # from the process's cache. An admin may call too.
    assert counter.post(call, json={"room": "101"}).json()["ticket"]["code"] == "B001"
    assert counter.post(call, json={"room": "101"}).json()["ticket"]["code"] == "B002"
    assert admin.post(call, json={"room": "102"}).json()["ticket"]["code"] == "B003"
    keyed = {"room": "102", "request_id": "c0ffee-short"}
    assert admin.post(call, json=keyed).json()["ticket"]["code"] == "B004"
    assert admin.post(call, json=keyed).json()["ticket"]["code"] == "B004"  # the same call
    assert shortcuts == [False, True, False, True, True]

    def both_ways(client: Api, path: str, **request: Any) -> tuple[int, Any, str | None]:
        """The answer of the generic way (nothing cached) and of the cached one: equal."""
        state.forget_callers()
        first = answer(client.post(path, **request))
        again = answer(client.post(path, **request))
        assert first == again, (path, request)
        return first

    as_kiosk = both_ways(kiosk, call, json={"room": "101"})
    assert as_kiosk[0] == 403 and as_kiosk[1]["code"] == "forbidden"
    not_json = both_ways(counter, call, data='{"room": "101"}')  # no content type
    assert not_json[0] == 422
    wrong_type = both_ways(
        counter, call, data='{"room": "101"}', headers={"Content-Type": "text/plain"}
    )
    assert wrong_type[0] == 422
    broken = both_ways(
        counter, call, data="{not json", headers={"Content-Type": "application/json"}
    )
    assert broken[0] == 422 and broken[1]["detail"][0]["type"] == "json_invalid"
    for body, field in (({"room": "x" * 33}, "room"), ({"room": "101", "extra": 1}, "extra")):
        status, detail, _ = both_ways(counter, call, json=body)
        assert status == 422 and ["body", field] in [e["loc"] for e in detail["detail"]]
    assert both_ways(counter, call, json=[])[0] == 422
    bad_code = both_ways(counter, "/api/v1/departments/NO-PE/call-next", json={"room": "101"})
    assert bad_code[0] == 422 and bad_code[1]["detail"][0]["loc"] == ["path", "code"]
    unknown = both_ways(counter, "/api/v1/departments/NOPE/call-next", json={"room": "101"})
    assert unknown[0] == 404
    room = both_ways(counter, call, json={"room": "999"})
    assert room[0] == 422 and room[1]["detail"][0]["type"] == "unknown_room"
    empty = both_ways(counter, call, json={"room": "101"})
    assert empty == (200, {"ticket": None}, None)
    # The scheme's case does not matter (HTTPBearer's reading); the token's does.
    token = str(counter.http.headers["Authorization"]).partition(" ")[2]
    lowercase = Api(live.url, None)
    lowercase.http.headers["Authorization"] = f"bearer  {token} "
    assert both_ways(lowercase, call, json={"room": "101"}) == empty
    assert shortcuts[-1] is True
    lowercase.http.headers["Authorization"] = f"Bearer {token.swapcase()}"
    assert both_ways(lowercase, call, json={"room": "101"})[0] == 401


def test_a_revoked_counter_is_refused_at_once_on_the_short_way(
    live: LiveServer,
    api: Callable[[str | None], Api],
    server_engine: Engine,
    shortcuts: list[bool],
) -> None:
    counter = api("counter")
    call = "/api/v1/departments/NOI/call-next"
    assert counter.post(call, json={"room": "101"}).status_code == 200
    assert counter.post(call, json={"room": "101"}).status_code == 200
    assert shortcuts == [False, True]
    revoke_device(server_engine, device_name("counter"))
    # PostgreSQL's notification clears every process's cache within moments.
    wait_until(lambda: counter.post(call, json={"room": "101"}).status_code == 401, 30, "401")
    refused = counter.post(call, json={"room": "101"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    assert shortcuts[-1] is False
