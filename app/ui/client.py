"""The UI's only way to the tutor: HTTP calls to the API, with errors a person can act on.

Every failure becomes an `ApiError` whose message is fit to show as is: the API's own
`detail`, or how to start the API when nothing answers. Nothing here imports Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx

from app.sse import events

START_HINT = "Start everything with `make run`, or just the API with `tutor serve`."


class ApiError(Exception):
    """A call failed; `str(error)` says why in words a learner can act on."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class Unreachable(ApiError):
    """Nothing answers at the API's address (not started, or stopped)."""


@cache
def pooled() -> httpx.Client:
    """The process's one HTTP client, shared by every session's `Api` (httpx's `Client` is
    safe across threads): its connections to the API are kept open and reused.

    Why: `httpx.request` builds a client per call, and with it an SSL context that reads the
    system's certificates (about 33 ms of CPU), even for plain HTTP. A page of the UI makes
    about eight calls, so that was half of each rerun's time."""
    return httpx.Client()


def detail_of(response: httpx.Response) -> str:
    """The API's `detail`, flattened: FastAPI's validation errors come as a list of dicts."""
    try:
        detail = response.json().get("detail", response.text)
    except (ValueError, AttributeError):
        return response.text or f"HTTP {response.status_code}"
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(map(str, d.get('loc', [])[1:]))}: {d.get('msg', d)}" for d in detail
        )
    return str(detail)


class Api:
    """The tutor API at `base_url`, calling as the learner whose token is given (if any)."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def as_learner(self, token: str | None) -> Api:
        return Api(self.base_url, token, self.timeout)

    def failure(self, exc: httpx.HTTPError) -> ApiError:
        """A transport failure in words: nothing listening, or a call that broke off."""
        if isinstance(exc, httpx.ConnectError):
            return Unreachable(f"The tutor API is not running at {self.base_url}. {START_HINT}")
        return ApiError(
            f"The tutor API stopped answering ({type(exc).__name__}); please try again in a moment."
        )

    def send(
        self, method: str, path: str, body: Any = None, content: bytes | None = None, **params: Any
    ) -> httpx.Response:
        """One call, with a JSON `body` or a file's bytes as `content`; the response when it
        succeeded, else an `ApiError`."""
        headers = self.headers
        if content is not None:
            headers = headers | {"Content-Type": "application/octet-stream"}
        try:
            response = pooled().request(
                method,
                f"{self.base_url}{path}",
                json=body,
                content=content,
                params=params or None,
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise self.failure(exc) from exc
        if response.is_error:
            raise ApiError(detail_of(response), response.status_code)
        return response

    def request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """One call; the decoded JSON body (None for 204), or an `ApiError`."""
        response = self.send(method, path, body, **params)
        return response.json() if response.content else None

    def download(self, path: str, **params: Any) -> bytes:
        """A GET whose body is a file (an export), as bytes."""
        return self.send("GET", path, **params).content

    def upload(self, path: str, content: bytes) -> Any:
        """A POST whose body is a file (an Anki package to import): the decoded JSON reply."""
        return self.send("POST", path, content=content).json()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, **params)

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.request("POST", path, body, **params)

    def put(self, path: str, body: Any, **params: Any) -> Any:
        return self.request("PUT", path, body, **params)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def stream_answer(self, payload: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        """POST /ask/stream as server-sent events: ("queued", {"position"}), ("token",
        {"text"}) many times, then ("citations", [...]) and ("done", answer). A mid-stream
        "error" event is raised."""
        try:
            with pooled().stream(
                "POST",
                f"{self.base_url}/ask/stream",
                json=payload,
                headers=self.headers,
                timeout=300,
            ) as response:
                if response.is_error:
                    response.read()
                    raise ApiError(detail_of(response), response.status_code)
                for name, data in events(response.iter_lines()):
                    if name == "error":
                        raise ApiError(data["detail"], 503)
                    yield name, data
        except httpx.HTTPError as exc:
            raise self.failure(exc) from exc
        except ValueError as exc:  # an event whose data is not JSON
            raise ApiError(
                "The tutor API sent an answer the app could not read; please ask again."
            ) from exc
