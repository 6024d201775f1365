"""A small real HTTP server for connector tests: it answers with what a test sets (a status,
a body, a delay), so timeouts, server errors and malformed payloads travel a real socket."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Upstream:
    def __init__(self) -> None:
        self.status = 200
        self.body = b""
        self.content_type = "application/fhir+json"
        self.delay = 0.0
        self.hits: list[str] = []
        # Per method ("GET", "POST", ...): (status, body) instead of the defaults.
        self.routes: dict[str, tuple[int, bytes]] = {}
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                upstream.hits.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if upstream.delay:
                    time.sleep(upstream.delay)
                status, body = upstream.routes.get(self.command, (upstream.status, upstream.body))
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", upstream.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # The client gave up waiting, as the timeout tests want.

            do_GET = do_POST = do_PUT = _answer  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Upstream:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
