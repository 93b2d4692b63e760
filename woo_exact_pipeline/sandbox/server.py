"""Serve an ASGI app with uvicorn on 127.0.0.1 in a background thread.

Used by the pytest fixtures and by `woo-exact sandbox`. The socket is bound before the
thread starts, so the port (free port when 0) is known and accepting as soon as
`start()` returns.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn


class BackgroundServer:
    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_certfile: Path | None = None,
        ssl_keyfile: Path | None = None,
        public_host: str | None = None,
    ) -> None:
        """`host`: the address to listen on; `public_host`: the name clients reach it by, in
        the links it writes (e.g. a container's name when listening on 0.0.0.0)."""
        self._app = app
        self._host = host
        self._public_host = public_host or host
        self._requested_port = port
        self._ssl_certfile = ssl_certfile
        self._ssl_keyfile = ssl_keyfile
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = port

    @property
    def scheme(self) -> str:
        return "https" if self._ssl_certfile else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self._public_host}:{self.port}"

    def start(self) -> BackgroundServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ssl_certfile=str(self._ssl_certfile) if self._ssl_certfile else None,
            ssl_keyfile=str(self._ssl_keyfile) if self._ssl_keyfile else None,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        # uvicorn installs signal handlers only on the main thread; in a thread it must not.
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
