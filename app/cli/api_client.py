"""`tutor search` and `tutor ask` through a running API that serves the same data dir.

The API has its encoder, index and model loaded already, so a search there takes a fraction of
a second and an answer skips loading the model; the command line only pays for the HTTP call.
`running_api_for` decides whether there is such an API (`tutor ingest` asks it too), by the
lock the API holds on the data dir. This
module imports little besides httpx, so a command pays little before the API answers.

Every way the call can go wrong (an error status, a refused or dropped connection, a stream that
ends before its answer) is an `ApiFailed`, so the command can answer in process instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from app.config import Settings
from app.search.lock import owner
from app.sse import events

# An answer may queue behind others for the API's one model on a busy machine: minutes.
TIMEOUT = httpx.Timeout(600.0, connect=5.0)


def running_api_for(settings: Settings) -> str | None:
    """The URL of an API serving this same embedded index, if one is running: decided by the
    lock such an API holds (`app.search.lock`), never by a call that could time out."""
    if settings.chroma_url:  # a Chroma server takes concurrent writers itself
        return None
    url = owner(settings.data_dir)
    if url is None:
        return None
    return url or settings.resolved_api_url


class ApiFailed(RuntimeError):
    """The API answered with an error (`status`) or went away (`status` None); the message
    says which."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ApiClient:
    """Calls to the API at `url`, as the learner whose bearer `token` comes with each (None:
    as nobody in particular)."""

    url: str
    token: str | None = None

    def search(self, query: str, k: int, week: int | None) -> list[dict[str, Any]]:
        """Hits as `tutor search --json` prints them (the API's also carry a url, which the
        contract leaves out)."""
        params: dict[str, Any] = {"q": query, "k": k}
        if week is not None:
            params["week"] = week
        hits = self.call("GET", "/search", params=params)
        return [{key: value for key, value in hit.items() if key != "url"} for hit in hits]

    def stream(self, question: str, **asking: Any) -> Iterator[tuple[str, Any]]:
        """("token", text) as the model writes, then ("answer", the answer as a dict)."""
        try:
            with httpx.stream(
                "POST",
                f"{self.url}/ask/stream",
                timeout=TIMEOUT,
                json={"question": question, **asking},
                headers=self._headers(),
                verify=_verifies(self.url),
            ) as response:
                if response.is_error:
                    response.read()
                    raise ApiFailed(_status(response), response.status_code)
                for event, data in events(response.iter_lines()):
                    if event == "token":
                        yield "token", data["text"]
                    elif event == "done":
                        yield "answer", data
                        return
                    elif event == "error":
                        raise ApiFailed(data["detail"])
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise ApiFailed(f"the answer stream broke off ({exc or type(exc).__name__})") from exc
        raise ApiFailed("the answer stream ended before the answer")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of the API's answer to `method path`. Raises ApiFailed."""
        try:
            response = httpx.request(
                method,
                f"{self.url}{path}",
                timeout=TIMEOUT,
                headers=self._headers(),
                verify=_verifies(self.url),
                **kwargs,
            )
            if response.is_error:
                raise ApiFailed(_status(response), response.status_code)
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ApiFailed(f"no answer ({exc or type(exc).__name__})") from exc


def _verifies(url: str) -> bool:
    """Certificates are checked for an https API; a plain-http one (the local API) skips
    loading the system's CA bundle, a fiftieth of a second of every command."""
    return not url.startswith("http://")


def _status(response: httpx.Response) -> str:
    try:
        detail = response.json()["detail"]
    except (ValueError, KeyError, TypeError):
        detail = response.text[:200]
    return f"HTTP {response.status_code}: {detail}"
