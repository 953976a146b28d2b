"""The hello app of examples/real-node/: answers every GET with its GREETING and where it runs,
and logs each request on stdout (so `kubectl logs`, tsuru `app log` and Deis `logs` show it)."""
import http.server
import os
import socket
import sys


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            body = b"ok\n"
        else:
            greeting = os.environ.get("GREETING", "hello")
            release = os.environ.get("BERTH_RELEASE", "?")
            body = f"{greeting} from {socket.gethostname()} (release {release})\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        if self.path != "/healthz":
            print(f"{self.client_address[0]} {fmt % args}", flush=True)


port = int(os.environ.get("PORT", "8080"))
print(f"hello app listening on :{port} (python {sys.version.split()[0]})", flush=True)
http.server.ThreadingHTTPServer(("", port), Hello).serve_forever()
