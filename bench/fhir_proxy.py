"""A slow external FHIR server for the connector phase: an HTTP proxy on the loopback that
waits `--delay` seconds, then forwards the request to a Medfront's `/fhir/R4` on the loopback
and returns its answer. It counts the requests it forwarded (`GET /__count`, not forwarded),
which are the external calls the product made.

Run by `bench.connector` as `python -m bench.fhir_proxy --port P --upstream U --delay 0.15`;
it only ever connects to 127.0.0.1 and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FORWARDED_HEADERS = ("Accept", "Authorization", "Content-Type", "Idempotency-Key")


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value = 0

    def add(self) -> None:
        with self.lock:
            self.value += 1


def handler_for(upstream_port: int, delay: float, counter: Counter) -> type:
    class SlowUpstream(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # the bench's output stays readable

        def _forward(self) -> None:
            if self.path == "/__count":
                self._answer(200, "text/plain", str(counter.value).encode())
                return
            counter.add()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            time.sleep(delay)
            conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
            try:
                headers = {k: self.headers[k] for k in FORWARDED_HEADERS if self.headers.get(k)}
                headers["Host"] = "127.0.0.1"
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self._answer(answer.status, answer.getheader("Content-Type") or "", data)
            finally:
                conn.close()

        def _answer(self, status: int, content_type: str, data: bytes) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _forward

    return SlowUpstream


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.15)
    args = parser.parse_args()
    server = ThreadingHTTPServer(
        ("127.0.0.1", args.port), handler_for(args.upstream, args.delay, Counter())
    )
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
