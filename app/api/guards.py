"""Checks on every request before it reaches a route: the Host it was sent to, and its size.

A Host allow-list keeps a browser page on another site from reaching the API through DNS
rebinding (its requests carry that site's name as Host).

FastAPI reads a whole JSON body into memory before validating it, so a 10 MB post costs 10 MB
however short its fields are. This ASGI middleware answers 413 from the Content-Length header
alone, and stops a body sent without one (chunked) as soon as it passes the cap. A file upload
(a path ending in one of `UPLOADS`) has a cap of its own, TUTOR_MAX_UPLOAD_MB.
"""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp
from starlette.types import Message
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

UPLOADS = ("/cards/import",)  # routes whose body is a file


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes

    def limit(self, path: str) -> tuple[int, str]:
        """The cap on a body sent to `path`, in bytes, and what a 413 says of it."""
        if path.endswith(UPLOADS):
            return self.upload_bytes, (
                f"the file is over {self.upload_bytes // 2**20} MB (TUTOR_MAX_UPLOAD_MB): "
                "export less (one deck), or raise the limit"
            )
        return self.max_bytes, (
            f"the request body is over {self.max_bytes // 1024} KB (TUTOR_MAX_BODY_KB); send less"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap, detail = self.limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            response = JSONResponse(
                {"detail": detail}, status_code=413, headers={"Connection": "close"}
            )
            await response(scope, receive, send)  # the body is never read
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > cap:  # reading the body fails with this, answered as a 413
                raise HTTPException(status_code=413, detail=detail)
            return message

        await self.app(scope, counted, send)


class HostAllowList:
    """400 for a request whose Host header is not one of `hosts` ("*" allows any)."""

    def __init__(self, app: ASGIApp, hosts: list[str]) -> None:
        self.app = app
        self.hosts = {host.lower().strip("[]") for host in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and "*" not in self.hosts:
            host = host_name(dict(scope["headers"]).get(b"host", b"").decode("latin-1"))
            if host not in self.hosts:
                response = JSONResponse(
                    status_code=400,
                    content={
                        "detail": f"this server does not answer to the host {host!r}: add it to "
                        "TUTOR_ALLOWED_HOSTS, or use one of " + ", ".join(sorted(self.hosts))
                    },
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def host_name(header: str) -> str:
    """The name in a Host header, without its port: `[::1]:8000` -> `::1`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header
