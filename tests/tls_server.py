"""HTTPS server for tests/tls_trust.rs.

Usage: tls_server.py CERT KEY BODY

Serves BODY for every GET on 127.0.0.1 at a port the kernel picks, with the certificate chain CERT
and its key KEY. Prints the port on stdout once the socket listens (connections made after that
wait in the backlog, so the test needs no sleep). Exits when killed, or when its stdin closes, so
that it does not outlive a test process that died without cleaning up.
"""

import http.server
import os
import ssl
import sys
import threading


def main() -> None:
    cert, key, body = sys.argv[1], sys.argv[2], sys.argv[3].encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def finish_request(self, request, client_address) -> None:
            # The handshake runs here, in the request's thread, not in accept(): a client that
            # rejects the certificate cannot stall the server for the next one.
            request.do_handshake()
            super().finish_request(request, client_address)

        def handle_error(self, request, client_address) -> None:
            # Failed handshakes are what the negative cases expect; the client reports them.
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = Server(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )

    def exit_when_stdin_closes() -> None:
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
