"""A stand-in for VENTRA's API and worker: the same health endpoints, nothing more.

ROLE=api    GET /api/v1/health: 200 when PostgreSQL answers a query and Redis a PING,
            503 otherwise. At start it adds the team's three accounts (its real data).
ROLE=worker GET /health: 200 when Redis answers, with the depth of its queue.

Standard library plus psycopg (in the image); a new connection per check, so that a
database that comes back is seen at once.
"""

import json
import os
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE = os.environ["ROLE"]
ACCOUNTS = ("bekzod", "sardor", "ventra-bot")


def redis_command(*args: str) -> bytes:
    with socket.create_connection((os.environ["REDIS_HOST"], int(os.environ["REDIS_PORT"])),
                                  timeout=1) as conn:
        wire = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
        conn.sendall(wire.encode())
        reply = conn.recv(1024)
    if not reply or reply[:1] == b"-":
        raise RuntimeError(f"redis: {reply!r}")
    return reply


def database():
    import psycopg

    return psycopg.connect(host=os.environ["DB_HOST"], port=os.environ["DB_PORT"],
                           user="ventra", dbname="ventra", password=os.environ["DB_PASSWORD"],
                           connect_timeout=1, autocommit=True)


def seed_accounts() -> None:
    for _ in range(60):
        try:
            with database() as conn:
                for name in ACCOUNTS:
                    conn.execute("INSERT INTO accounts (name) VALUES (%s) "
                                 "ON CONFLICT (name) DO NOTHING", (name,))
            return
        except Exception as exc:  # the database may still be starting
            print(f"seeding accounts: {exc}", flush=True)
            time.sleep(1)
    raise SystemExit("the database never answered")


def health() -> tuple[int, dict]:
    try:
        if ROLE == "api":
            with database() as conn:
                conn.execute("SELECT count(*) FROM accounts").fetchone()
            redis_command("PING")
            return 200, {"status": "ok"}
        depth = redis_command("LLEN", "bull:discovery:wait")
        return 200, {"status": "ok", "queue": depth.decode().strip(":\r\n")}
    except Exception as exc:
        return 503, {"status": "down", "error": str(exc)[:200]}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = "/api/v1/health" if ROLE == "api" else "/health"
        status, body = health() if self.path == path else (404, {"error": "not found"})
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    if ROLE == "api":
        seed_accounts()
    ThreadingHTTPServer((os.environ["BIND"], int(os.environ["PORT"])), Handler).serve_forever()
