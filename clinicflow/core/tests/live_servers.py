"""Real server processes for the fault and shared-store tests: gunicorn with ``config/gunicorn.py``
on a free port, a small cookie-keeping HTTP client, a TCP proxy in front of PostgreSQL that a test
can cut, and a committed clinic to book at (the tests use ``transactional_db``, so the servers see
the rows).

Only loopback addresses are used; every wait is bounded."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinicflow.acquisition.integrations import services as integrations
from clinicflow.acquisition.providers import generic
from clinicflow.booking.tests.factories import local, make_doctor, make_room, make_service, next_weekday
from clinicflow.core.models import Branch, Organization
from clinicflow.core.services import branch_create, organization_create

ROOT = Path(settings.BASE_DIR)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def forget_keys(redis_url: str, prefix: str) -> None:
    """Delete the keys a test's servers left in Redis under its own ``CACHE_KEY_PREFIX`` (only those)."""
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url(host: str | None = None, port: int | None = None) -> str:
    """The test database (committed rows only) as the servers should reach it."""
    conf = connection.settings_dict
    user = urllib.parse.quote(conf["USER"] or "postgres")
    password = f":{urllib.parse.quote(conf['PASSWORD'])}" if conf.get("PASSWORD") else ""
    return (
        f"postgresql://{user}{password}@{host or conf['HOST'] or '127.0.0.1'}:"
        f"{port or conf['PORT'] or 5432}/{conf['NAME']}"
    )


class Server:
    """``gunicorn -c config/gunicorn.py config.wsgi:application`` (development profile, DEBUG off)."""

    def __init__(self, log: Path, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.log = log
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "CLINICFLOW_ENV": "development",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "BIND": f"127.0.0.1:{self.port}",
            "WEB_WORKERS": str(workers),
            "WEB_THREADS": "1",
            "LOG_LEVEL": "CRITICAL",
            "WEB_LOG_LEVEL": "warning",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        return self.launch().wait_ready()

    def launch(self) -> Server:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self) -> Server:
        assert self.proc is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-3000:]}")
            try:
                if Client(self.port).get("/healthz").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer in 60 s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # gunicorn's graceful stop; its workers go with it
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    """HTTP/1.1 to one server, keeping cookies; redirects are not followed."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            sent = {**self.headers, **headers}
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _sep, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path: str, **headers: str) -> Answer:
        return self.request("GET", path, **headers)

    def post_form(self, path: str, data: dict[str, str], **headers: str) -> Answer:
        body = urllib.parse.urlencode(data).encode()
        return self.request(
            "POST", path, body, **{"Content-Type": "application/x-www-form-urlencoded", **headers}
        )

    def on(self, port: int) -> Client:
        """The same visitor (cookies) talking to another server."""
        return Client(port, self.cookies, self.headers)


@dataclass
class LiveClinic:
    """Committed rows to book at and to send call events to."""

    org: Organization
    branch: Branch
    service_id: str
    doctor_id: str
    webhook_path: str
    signing_key: str

    @classmethod
    def create(cls) -> LiveClinic:
        org = organization_create(
            name="Live Clinic", slug="live", country="RU", currency="RUB", data_region="RU"
        )
        branch = branch_create(org=org, name="Moscow", slug="moscow", timezone="Europe/Moscow", city="Moscow")
        service = make_service(org)
        make_room(org, branch, "Laser 1")
        doctor = make_doctor(org, branch, [service], "Dr Petrova")
        _integration, secret = integrations.integration_create(
            org=org, actor=None, provider="generic", signing_key="live-signing-key"
        )
        return cls(
            org=org,
            branch=branch,
            service_id=str(service.pk),
            doctor_id=str(doctor.pk),
            webhook_path=integrations.webhook_path("generic", secret),
            signing_key="live-signing-key",
        )

    def start(self, hour: int, minute: int = 0, weeks_ahead: int = 1) -> str:
        when = local(self.branch, next_weekday(0, weeks_ahead=weeks_ahead), hour, minute)
        return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def slot(self, start: str) -> dict[str, str]:
        return {"service": self.service_id, "doctor": self.doctor_id, "start": start}

    def details_path(self) -> str:
        return f"/book/{self.branch.pk}/details/"

    def csrf_token(self, client: Client, start: str) -> str:
        """Open the details page once: the CSRF cookie and the form's token (valid on every server
        that shares the secret key)."""
        page = client.get(f"{self.details_path()}?{urllib.parse.urlencode(self.slot(start))}")
        assert page.status == 200, page.text[:500]
        found = CSRF_FIELD.search(page.text)
        assert found is not None
        return found.group(1)

    def request_code(self, client: Client, token: str, start: str, phone: str, **headers: str) -> Answer:
        data = {
            **self.slot(start),
            "first_name": "Maria",
            "last_name": "Kuznetsova",
            "phone": phone,
            "channel": "sms",
            "csrfmiddlewaretoken": token,
        }
        return client.post_form(self.details_path(), data, **headers)

    def confirm(self, client: Client, token: str, location: str, code: str) -> Answer:
        return client.post_form(location, {"code": code, "csrfmiddlewaretoken": token})

    def call_event(self, client: Client, call_id: str) -> Answer:
        body = json.dumps(
            {
                "call_id": call_id,
                "event": "missed",
                "caller": "+79161230000",
                "called": "+74951000001",
                "started_at": "2025-03-04T18:30:00Z",
                "ended_at": "2025-03-04T18:30:40Z",
                "duration": 40,
            }
        ).encode()
        signature = generic.sign(body, self.signing_key, timezone.now())
        return client.request(
            "POST",
            self.webhook_path,
            body,
            **{"Content-Type": "application/json", "X-Clinicflow-Signature": signature},
        )


class TcpProxy:
    """A TCP proxy on a free loopback port to ``target``, that a test can cut:

    - ``cut()`` closes every connection and the listening socket (new connections are refused);
      ``restore()`` listens again on the same port;
    - ``cut_on(pattern)`` drops, unforwarded, the first client chunk containing ``pattern``
      and closes that connection (a server lost in the middle of a transaction)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.pattern: bytes | None = None
        self.fired = 0
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            _close(listener)  # shutdown wakes the thread blocked in accept(); close alone would not
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for a, b in pairs:
            _close(a)
            _close(b)

    def cut_on(self, pattern: bytes) -> None:
        self.pattern = pattern

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while True:
                ready, _w, _x = select.select(list(peers), [], [], 60)
                if not ready:
                    return
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    if src is client and self.pattern is not None and self.pattern in data:
                        self.pattern = None
                        self.fired += 1
                        return  # the statement never reaches the server; both ends are closed
                    peers[src].sendall(data)
        except OSError:
            return
        finally:
            _close(client)
            _close(upstream)
            with self.lock:
                if (client, upstream) in self.pairs:
                    self.pairs.remove((client, upstream))


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
