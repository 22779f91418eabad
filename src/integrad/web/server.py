"""Starting the web view: :func:`serve` binds the address, loads the models once, and runs
uvicorn, in the foreground (the command line) or in a background thread (notebooks)."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import socket
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from integrad.errors import InputError, IntegradError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Seconds a background server may take to start answering.
START_TIMEOUT = 30.0
WEB_EXTRA = 'pip install "integrad[web]"'


class PortInUse(IntegradError):
    """The address is taken by another program."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (``port=0``: any free port), or a clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # Lets a restarted server take its port back at once; another program's listening
    # socket still refuses the bind, which is what we want to report.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"port {port} on {host} is already in use (another integrad serve, or another "
                f"server); choose another port with --port {port + 1} (port= in Python; 0 "
                "takes any free port), or stop the program that holds it"
            ) from None
        raise InputError(
            f"cannot listen on {host}:{port}: {err.strerror or err}; give a host name or "
            "address of this machine (127.0.0.1 keeps the server to this machine)"
        ) from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    """The address a browser opens for this socket."""
    port = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{shown}:{port}"


class WebServer:
    """A running web view: its address, and how to stop it.

    Attributes:
        url: The address to open, e.g. ``http://127.0.0.1:8000``.
        app: The ASGI application (see :func:`integrad.web.app.create_app`).
    """

    def __init__(self, app: Any, sock: socket.socket, url: str) -> None:
        import uvicorn

        self.app, self.url, self._sock = app, url, sock
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Serves until interrupted (Ctrl+C)."""
        try:
            self._server.run(sockets=[self._sock])
        finally:
            self._sock.close()

    def start(self) -> WebServer:
        """Serves from a background thread; returns once the server answers."""
        self._thread = threading.Thread(target=self.run, name="integrad-web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise IntegradError(f"the web server did not start at {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stops a background server and waits for it to finish."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> WebServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"WebServer({self.url!r})"


def serve(
    model: Any = None,
    *,
    runs: Sequence[str | os.PathLike] = (),
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    tokenizer: Any = None,
    block: bool | None = None,
    load: bool = True,
    open_browser: bool = False,
    **options: Any,
) -> WebServer:
    """Starts the local web view: explain, compare and browse dataset runs in a browser.

    Args:
        model: The model to explain, as :func:`integrad.explain` takes it (None: the bundled
            default model), a causal language model (the page then explains generations),
            or a list of models to choose from and compare.
        runs: Folders written by ``integrad explain --dataset ... --out DIR`` (or folders of
            such folders), browsed at ``/runs``.
        host: The address to listen on. The default, 127.0.0.1, is this machine only; any
            other host prints a warning, since whoever reaches it can run the model and read
            the runs.
        port: The port (0: any free one; the address is printed and in ``.url``).
        tokenizer: The tokenizer of models given as objects.
        block: Serve in the foreground until Ctrl+C (True), or from a background thread and
            return at once (False). None: in the background when called from a running
            event loop (a Jupyter notebook), else in the foreground.
        load: Load the models before serving (so a wrong model fails now, not on the first
            request).
        open_browser: Open the address in the default browser.
        **options: ``trust_remote_code``, ``local_files_only`` for models given by name.

    Returns:
        The :class:`WebServer` (call ``.stop()`` on a background one).

    Raises:
        PortInUse: The port is taken; the message says how to choose another.

    Example:
        >>> server = integrad.serve(block=False)  # doctest: +SKIP
        >>> server.url  # doctest: +SKIP
        'http://127.0.0.1:8000'
    """
    try:
        import pyarrow  # noqa: F401  (runs are Parquet)
        import uvicorn  # noqa: F401

        from integrad.web.app import LOOPBACK_HOSTS, create_app
    except ImportError as err:
        raise IntegradError(
            f"the web view needs its extra packages ({err.name} is missing): {WEB_EXTRA}"
        ) from err
    from integrad.web.runs import check_roots

    check_roots(runs)
    sock = bind(host, port)
    try:
        loopback = is_loopback(host)
        hosts = [*LOOPBACK_HOSTS, host] if loopback else ["*"]
        app = create_app(model, runs=runs, tokenizer=tokenizer, allowed_hosts=hosts, **options)
        if load:
            for slot in app.state.slots.values():
                print(f"integrad: loading {slot.name} ...", file=sys.stderr, flush=True)
                slot.load()
        server = WebServer(app, sock, url_of(sock, host))
    except BaseException:
        sock.close()
        raise
    if not loopback:
        print(
            f"integrad: warning: listening on {host}, not 127.0.0.1: anyone who can reach this "
            "address can run the model and read the runs folders (there is no login). Use "
            "--host 127.0.0.1 to keep the server to this machine.",
            file=sys.stderr,
        )
    print(f"integrad: serving on {server.url}  (Ctrl+C to stop)", file=sys.stderr, flush=True)
    if block is None:
        block = not _in_event_loop()
    if open_browser:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(server.url,)).start()
    if block:
        server.run()
    else:
        server.start()
    return server


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
