"""The error answers each endpoint documents in `/openapi.json` (every status it really sends)."""

from __future__ import annotations

from server_sync.server.schemas import ErrorAnswer

Responses = dict[int | str, dict[str, object]]

AUTH_ERRORS: Responses = {
    401: {"model": ErrorAnswer, "description": "no token, or an unknown or revoked one"},
    403: {"model": ErrorAnswer, "description": "this device's role may not do this"},
}
NOT_FOUND: Responses = {404: {"model": ErrorAnswer, "description": "no such ticket or department"}}
CONFLICT: Responses = {
    409: {"model": ErrorAnswer, "description": "impossible transition; the reason says why"}
}
TOO_LARGE: Responses = {
    413: {"model": ErrorAnswer, "description": "the request body is larger than the server takes"}
}
# Every endpoint: a body that is not JSON, and a database the server cannot reach.
EVERYWHERE: Responses = {
    400: {"model": ErrorAnswer, "description": "the request cannot be read (e.g. not JSON)"},
    503: {
        "model": ErrorAnswer,
        "description": "the database cannot be reached; try again after Retry-After seconds",
    },
}
