"""A cap on request bodies, enforced before the body is read.

FastAPI reads a whole JSON body into memory before validating it, so a 10 MB post costs 10 MB
however short its fields are. This ASGI middleware answers 413 from the Content-Length header
alone, and stops a body sent without one (chunked) as soon as it passes the cap.
"""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    @property
    def detail(self) -> str:
        return f"the request body is over {self.max_bytes // 1024} KB (TUTOR_MAX_BODY_KB); send less"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            response = JSONResponse({"detail": self.detail}, status_code=413,
                                    headers={"Connection": "close"})
            await response(scope, receive, send)  # the body is never read
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:  # reading the body fails with this, answered as a 413
                raise HTTPException(status_code=413, detail=self.detail)
            return message

        await self.app(scope, counted, send)
