#!/usr/bin/env python3
"""A tiny stand-in for the Webex API, for scripts/schemathesis: answers the few calls the REST API
makes while a client waits (who am I, list recordings, details, delete) on 127.0.0.1.

Usage: fake-webex.py PORT_FILE  -- listens on a free port and writes it to PORT_FILE.
"""
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ME = {"id": "fake-person", "displayName": "Fake Officer", "emails": ["officer@example.com"], "orgId": "fake-org"}


class FakeWebex(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet: schemathesis makes thousands of calls
        pass

    def answer(self, status, body=None):
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/v1/people/me":
            return self.answer(200, ME)
        if path in ("/v1/convergedRecordings", "/v1/admin/convergedRecordings"):
            return self.answer(200, {"items": []})
        if re.fullmatch(r"/v1/convergedRecordings/[^/]+", path):
            return self.answer(404, {"message": "The requested resource could not be found."})
        return self.answer(404, {"message": "not faked"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path.startswith("/v1/convergedRecordings/softDelete"):
            return self.answer(204)
        return self.answer(404, {"message": "not faked"})

    def do_DELETE(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        return self.answer(204)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWebex)
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
