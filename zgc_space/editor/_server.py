"""The editor as a local web page: the standard library's threading HTTP server on 127.0.0.1.

Why :mod:`http.server`: the page is one HTML document and one JSON endpoint for one person on
their own machine, so a dependency-free server is enough, and it installs wherever Python does
(bureau machines often forbid extra packages). It is guarded as a local tool must be:

* it binds 127.0.0.1 only (or ``::1``/``localhost``), never all interfaces;
* requests whose ``Host`` is not the loopback address and port are refused (DNS rebinding);
* every command carries the page's random token (``X-ZGC-Token``), so another site open in the
  browser cannot drive the editor;
* the page's Content-Security-Policy allows inline code and same-origin requests only: it
  cannot load or send anything elsewhere.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from zgc_space.editor._assets import map_data, page_html
from zgc_space.editor._session import EditSession
from zgc_space.errors import ParameterError

__all__ = ["LOOPBACK", "EditorServer"]

log = logging.getLogger(__name__)

#: Hosts the server may bind.
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_MAX_BODY = 1_000_000
_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class EditorServer:
    """Serve an :class:`EditSession` as a page on the loopback interface.

    Parameters
    ----------
    session
        The edit state the page drives (give it ``out_dir`` so the page can save).
    host
        ``"127.0.0.1"`` (default), ``"localhost"`` or ``"::1"``; nothing else.
    port
        TCP port; 0 picks a free one (see :attr:`url`).

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from zgc_space import datasets
    >>> server = EditorServer(EditSession(datasets.load_blocks()), port=0)
    >>> server.url.startswith("http://127.0.0.1:")
    True
    >>> server.close()
    """

    def __init__(self, session: EditSession, *, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in LOOPBACK:
            raise ParameterError(
                f"host={host!r}: the editor serves the loopback interface only ({', '.join(LOOPBACK)})")
        if not 0 <= int(port) <= 65535:
            raise ParameterError(f"port={port!r} is not a TCP port (0-65535; 0 picks a free one)")
        self.session = session
        self.token = secrets.token_urlsafe(24)
        self._lock = threading.Lock()
        self._data = map_data(session.blocks, session.candidates)
        self._thread: threading.Thread | None = None
        server = self

        class Handler(_Handler):
            owner = server

        family_server = _V6Server if host == "::1" else ThreadingHTTPServer
        self.httpd = family_server((host, int(port)), Handler)
        self.host = host
        self.port = int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        """The page's address."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def page(self) -> str:
        """Return the page as served now."""
        with self._lock:
            view = self.session.state()
        title = f"zgc-space edit · {self.session.proposal.id}"
        return page_html(self._data, view, token=self.token, title=title)

    def command(self, message: dict[str, Any]) -> dict[str, Any]:
        """Carry out one command (one at a time) and return the new state."""
        with self._lock:
            return self.session.handle(message)

    def serve_forever(self) -> None:
        """Serve until :meth:`close` (or Ctrl-C in the caller)."""
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> EditorServer:
        """Serve in a daemon thread; returns ``self``."""
        self._thread = threading.Thread(target=self.serve_forever, name="zgc-editor", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> EditorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    owner: EditorServer
    server_version = "zgc-space-edit"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("%s %s", self.address_string(), format % args)

    def _host_ok(self) -> bool:
        host = self.headers.get("Host", "")
        allowed = {f"{h}:{self.owner.port}" for h in ("127.0.0.1", "localhost", "[::1]")}
        return host in allowed

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if content_type.startswith("text/html"):
            self.send_header("Content-Security-Policy", _CSP)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: HTTPStatus, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        """Serve the page."""
        if not self._host_ok():
            self._json(HTTPStatus.MISDIRECTED_REQUEST, {"error": "use the address zgc-space edit printed"})
            return
        if self.path.split("?", 1)[0] in ("/", "/index.html"):
            self._send(HTTPStatus.OK, self.owner.page().encode("utf-8"), "text/html; charset=utf-8")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page {self.path!r}"})

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        """Carry out one command of the page."""
        if not self._host_ok():
            self._json(HTTPStatus.MISDIRECTED_REQUEST, {"error": "use the address zgc-space edit printed"})
            return
        if self.path != "/api/command":
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint {self.path!r}"})
            return
        if not secrets.compare_digest(self.headers.get("X-ZGC-Token", ""), self.owner.token):
            self._json(HTTPStatus.FORBIDDEN, {"error": "missing or wrong page token; reload the page"})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 < length <= _MAX_BODY:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "a command is a JSON object of at most 1 MB"})
            return
        try:
            message = json.loads(self.rfile.read(length).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": f"the command is not JSON: {exc}"})
            return
        if not isinstance(message, dict):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "a command is a JSON object"})
            return
        self._json(HTTPStatus.OK, self.owner.command(message))
