"""The part every fake provider shares: a real HTTP server on 127.0.0.1, in a thread.

Each fake serves its own routes from its own event loop in a daemon thread, so it
answers the same whether the code under test is synchronous (twilio's client),
runs on pytest-asyncio's loop (python-telegram-bot), or blocks. Subclasses give
``_endpoint`` (one catch-all route) and ``summary`` (for failure messages).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class LocalServer:
    name = "fake"
    methods: tuple[str, ...] = ("GET", "POST")

    def __init__(self) -> None:
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._port: int | None = None
        self._outage: tuple[int, float] | None = None

    async def _endpoint(self, request: Request) -> Response:
        raise NotImplementedError

    def summary(self) -> str:
        raise NotImplementedError

    def _before_start(self) -> None:
        """Hook: called before the server starts."""

    def _before_stop(self) -> None:
        """Hook: called before the server is told to exit (e.g. to end long polls)."""

    def down(self, status: int = 503, *, hang: float = 0.0) -> None:
        """An outage: every request waits ``hang`` seconds (a provider timing out), then
        is answered ``status`` without being handled, until :meth:`up`."""
        self._outage = (status, hang)

    def up(self) -> None:
        """The outage is over: requests are handled again."""
        self._outage = None

    async def _refused_by_outage(self) -> int | None:
        """The status to answer instead of handling a request, while the fake is down."""
        outage = self._outage
        if outage is None:
            return None
        status, hang = outage
        if hang > 0:
            await asyncio.sleep(hang)
        return status

    @property
    def url(self) -> str:
        """The API root this fake stands in for."""
        if self._port is None:
            raise RuntimeError(f"{self.name} is not started")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> Self:
        if self._thread is not None:
            return self
        self._before_start()
        # proto must be IPPROTO_TCP, or asyncio skips TCP_NODELAY on accepted
        # connections and every answer waits ~40 ms (Nagle vs. delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self._port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=list(self.methods))])
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        server = self._server = uvicorn.Server(config)

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            finally:
                sock.close()
                loop.close()

        thread = self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._thread = None
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        thread, server = self._thread, self._server
        if thread is None or server is None:
            return
        self._before_stop()
        server.should_exit = True
        thread.join(10)
        self._thread = self._server = self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    async def wait_for(
        self,
        predicate: Callable[[Any], Any],
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented helper signature
        *,
        interval: float = 0.01,
    ) -> Any:
        """Poll until ``predicate(fake)`` is truthy and return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{self.name}: condition not met within {timeout}s; calls:\n{self.summary()}"
                )
            await asyncio.sleep(interval)
