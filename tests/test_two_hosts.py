"""Two app hosts behind the shipped HAProxy configuration, sharing one PostgreSQL and one
Redis: what a deployment of several hosts promises, seen from outside.

Host A is gunicorn on 127.0.0.2 and host B on 127.0.0.3 (Linux gives all of 127/8 to the
loopback interface), both with the shipped `gunicorn.conf.py` and
STATIONFINDER_TRUSTED_PROXIES=1. HAProxy runs `deploy/haproxy.cfg` itself, with only its
addresses, log and socket paths replaced for a test (`render_haproxy_config`). The hosts
reach PostgreSQL through a TCP forwarder this test controls, so that a database outage
can be made without stopping a server other people use. Rate-limit counters live in a
Redis database claimed for this run.

HAProxy's runtime API (the stats socket the shipped file opens) takes one host out of
rotation, as an operator drains a host, so that a request "through A" is one the proxy
could only send to A.

Figures are printed (run with -s to see them).
"""

from __future__ import annotations

import contextlib
import csv
import http.client
import importlib.util
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from live_server import REPO, Gunicorn, free_port, migrate_and_seed, scratch_postgres
from sqlalchemy.engine import make_url

HAPROXY = "/usr/sbin/haproxy"
REDIS = ("127.0.0.1", 6379)
HOST_A, HOST_B = "127.0.0.2", "127.0.0.3"
WORKERS = 2  # per host
LOAD_THREADS = 2  # couriers' GETs in flight at once while host A is killed
PROMISE_S = 1.0  # an edit through one host is served by the other within this long
STATION = "QT-BY-001"
NEAREST = "/api/v1/stations/nearest?lat=30.3102&lon=120.3531&k=3"
OPEN311_POST = "/open311/v2/requests.json"
OPEN311_LIMIT = 10  # POST_LIMIT in web/open311/routes.py: "10 per hour;50 per day"
REDIS_CLAIM = "stationfinder:test_two_hosts:claimed"


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# The tests that start the hosts; the ones at the end read the shipped files only.
needs_cluster = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("STATIONFINDER_TEST_DATABASE_URL"),
        reason="STATIONFINDER_TEST_DATABASE_URL is not set (the PostgreSQL both hosts share)",
    ),
    pytest.mark.skipif(not _redis_reachable(), reason=f"no Redis answers at {REDIS[0]}:{REDIS[1]}"),
    pytest.mark.skipif(
        not os.access(HAPROXY, os.X_OK), reason=f"{HAPROXY} is missing (apt-get install haproxy)"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("gunicorn") is None,
        reason="gunicorn is not installed (pip install '.[test]')",
    ),
]


def on_two_hosts(test: Any) -> Any:
    for mark in reversed(needs_cluster):
        test = mark(test)
    return test


# --- HTTP from the outside ----------------------------------------------------------

_UNVERIFIED = ssl.create_default_context()
_UNVERIFIED.check_hostname = False
_UNVERIFIED.verify_mode = ssl.CERT_NONE


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # by lower-case name (HAProxy sends names in lower case)
    body: bytes

    @property
    def worker(self) -> str:
        return self.headers.get("x-worker", "")

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    host: str,
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    source: str | None = None,
    tls: bool = False,
) -> Answer:
    """One request on a new connection, from the loopback address `source` if given (a
    client elsewhere, as the proxy sees it), over TLS if `tls` (the test's certificate
    is self-signed: not verified)."""
    address = (source, 0) if source else None
    conn = (
        http.client.HTTPSConnection(
            host, port, timeout=10, source_address=address, context=_UNVERIFIED
        )
        if tls
        else http.client.HTTPConnection(host, port, timeout=10, source_address=address)
    )
    try:
        conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, headers, response.read())
    finally:
        conn.close()


# --- PostgreSQL behind a switch -----------------------------------------------------


class TcpForwarder:
    """Forwards 127.0.0.1:<port> to PostgreSQL. `cut` is what a server restart looks like
    to its clients (open connections drop, new ones are refused); `restore` listens again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes accept() in its thread
            listener.close()
        with self._lock:
            live, self._sockets = self._sockets, set()
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._sockets.discard(source)
            source.close()


# --- HAProxy ------------------------------------------------------------------------


SHIPPED_CERT = "/etc/haproxy/certs/stationfinder.pem"


def render_haproxy_config(
    shipped: str,
    http_bind: str,
    https_bind: str,
    cert: Path,
    servers: dict[str, str],
    socket_path: Path,
) -> str:
    """deploy/haproxy.cfg for this test: HTTP on `http_bind` and HTTPS on `https_bind`
    with a test certificate, the `server` lines pointed at the test's hosts, logs to
    stdout, the admin socket at `socket_path`, and no root (no chroot, user, daemon).
    Everything else is the shipped file, so that this test fails when the shipped
    configuration stops doing its job."""
    replaced: list[str] = []
    out = []
    for line in shipped.splitlines():
        words = line.split()
        key = words[0] if words else ""
        if key in {"chroot", "user", "group", "daemon"}:
            replaced.append(key)
            continue
        if key == "log" and words[1:2] == ["/dev/log"]:
            line, key = "    log stdout format raw local0", "log /dev/log"
        elif key == "stats" and words[1:2] == ["socket"]:
            line = f"    stats socket {socket_path} mode 600 level admin"
        elif key == "bind" and words[1:3] == [":443", "ssl"] and SHIPPED_CERT in words:
            line = line.replace(":443", https_bind).replace(SHIPPED_CERT, str(cert))
            key = "bind ssl"
        elif key == "bind" and words[1:] == [":80"]:
            line = f"    bind {http_bind}"
        elif key == "server":
            name = words[1]
            line = f"    server {name} {servers.pop(name)}"
        else:
            out.append(line)
            continue
        replaced.append(key)
        out.append(line)
    expected = ["chroot", "user", "group", "daemon", "log /dev/log", "stats", "bind"]
    expected += ["bind ssl", "server", "server"]
    assert sorted(replaced) == sorted(expected), f"deploy/haproxy.cfg changed shape: {replaced}"
    assert not servers, f"no `server` lines for {sorted(servers)} in deploy/haproxy.cfg"
    return "\n".join(out) + "\n"


def make_certificate(folder: Path) -> Path:
    """A self-signed certificate and its key in one PEM, as HAProxy's `crt` takes them."""
    cert = folder / "stationfinder.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=xiaoge.example.cn", "-keyout", str(cert), "-out", str(cert)],
        capture_output=True,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"openssl cannot make a test certificate: {made.stderr[-300:]!r}")
    return cert


class HAProxy:
    """haproxy in the foreground on the rendered shipped configuration. Requests go to
    its HTTPS side, as every courier's do (the HTTP side only redirects)."""

    def __init__(self, servers: dict[str, str], folder: Path) -> None:
        self.http_port, self.port = free_port(), free_port()
        self.socket_path = folder / "haproxy.sock"
        shipped = (REPO / "deploy" / "haproxy.cfg").read_text(encoding="utf-8")
        config = folder / "haproxy.cfg"
        rendered = render_haproxy_config(
            shipped,
            f"127.0.0.1:{self.http_port}",
            f"127.0.0.1:{self.port}",
            make_certificate(folder),
            servers,
            self.socket_path,
        )
        config.write_text(rendered)
        check = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True)
        assert check.returncode == 0, f"haproxy -c:\n{check.stdout}{check.stderr}"
        self.log_path = folder / "haproxy.log"
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(config)], stdout=self._log, stderr=subprocess.STDOUT
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        return call("127.0.0.1", self.port, method, path, tls=True, **kwargs)

    def plain_request(self, method: str, path: str, **kwargs: Any) -> Answer:
        return call("127.0.0.1", self.http_port, method, path, **kwargs)

    def admin(self, command: str) -> str:
        """One command on HAProxy's runtime API (the shipped file's stats socket)."""
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(5)
            conn.connect(str(self.socket_path))
            conn.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def status(self) -> dict[str, str]:
        """Each app server's state as HAProxy's health checks see it: UP, DOWN, MAINT…"""
        text = self.admin("show stat").lstrip("# ")
        rows = csv.DictReader(text.splitlines())
        servers = [r for r in rows if r["pxname"] == "app"]
        return {r["svname"]: r["status"] for r in servers if r["svname"] != "BACKEND"}

    def wait_for(self, wanted: dict[str, str], timeout: float = 20.0) -> float:
        """Seconds until every named server is in the wanted state (UP, DOWN, MAINT)."""
        started = time.monotonic()
        while True:
            assert self.process.poll() is None, self.log_path.read_text(errors="replace")
            try:
                states = self.status()
            except OSError:  # haproxy has not opened its socket yet
                states = {}
            if all(states.get(name, "").startswith(state) for name, state in wanted.items()):
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise AssertionError(f"HAProxy servers {states}, wanted {wanted}")
            time.sleep(0.05)

    def only(self, server: str) -> contextlib.AbstractContextManager[None]:
        """Send everything to `server` for a while: the other one is put in maintenance."""
        other = {"app1": "app2", "app2": "app1"}[server]

        @contextlib.contextmanager
        def drained() -> Iterator[None]:
            self.admin(f"set server app/{other} state maint")
            self.wait_for({other: "MAINT", server: "UP"})
            try:
                yield
            finally:
                self.admin(f"set server app/{other} state ready")
                self.wait_for({other: "UP"})

        return drained()

    def retried_since(self, offset: int) -> int:
        """Requests HAProxy's log shows as retried (the last of the `%ac/%fc/%bc/%sc/%rc`
        counts: `+1` when redispatched to another server) after byte `offset`."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        counts = re.findall(r" \d+/\d+/\d+/\d+/(\+?\d+) \d+/\d+ \"", text)
        return sum(1 for retries in counts if retries.lstrip("+") != "0")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


# --- the two hosts ------------------------------------------------------------------


@dataclass
class Cluster:
    a: Gunicorn
    b: Gunicorn
    proxy: HAProxy
    postgres: TcpForwarder
    token: str
    folder: Path
    host_url: str  # the database URL the hosts use: through the forwarder
    settings: dict[str, str] = field(default_factory=dict)

    def start_a(self) -> Gunicorn:
        """Host A again, on its address and port, as its systemd unit would restart it."""
        self.a = Gunicorn(
            self.host_url,
            WORKERS,
            self.folder / "host-a.log",
            host=HOST_A,
            port=self.a.port,
            **self.settings,
        )
        self.a.wait_until_ready(WORKERS)
        return self.a

    def workers_of(self, answer: Answer) -> str:
        """Which host answered, A or B (each host's workers are known by X-Worker)."""
        if answer.worker in self.a.pids:
            return "A"
        if answer.worker in self.b.pids:
            return "B"
        return f"? ({answer.status}, X-Worker {answer.worker!r})"


@contextlib.contextmanager
def claimed_redis_database() -> Iterator[int]:
    """A Redis database (1..15) that was empty, marked as this run's while in use and
    emptied afterwards, so that no other suite's counters meet these."""
    import redis

    for number in range(15, 0, -1):
        client = redis.Redis(*REDIS, db=number)
        try:
            if client.dbsize() == 0 and client.set(REDIS_CLAIM, str(os.getpid()), nx=True, ex=600):
                break
        except redis.RedisError:
            pass
        client.close()
    else:
        pytest.skip("no empty Redis database (1..15) to use for this run")
    try:
        yield number
    finally:
        client.flushdb()
        client.close()


def _staff_token(database_url: str) -> str:
    """An integration token of a union admin, made as the tokens page makes one."""
    from sqlalchemy.orm import Session

    from stationfinder.accounts.passwords import hash_password
    from stationfinder.accounts.tokens import new_token
    from stationfinder.db import make_engine
    from stationfinder.models import StaffAccount

    engine = make_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            admin = StaffAccount(
                username="two-hosts-admin",
                display_name="two hosts",
                password_hash=hash_password("correct horse battery"),
                role="union_admin",
                street=None,
            )
            session.add(admin)
            session.flush()
            return new_token(session, admin.id, "two hosts test")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("two_hosts")
    with claimed_redis_database() as redis_db, scratch_postgres("two_hosts") as url:
        migrate_and_seed(url)
        token = _staff_token(url)
        parsed = make_url(url)
        forwarder = TcpForwarder((parsed.host or "127.0.0.1", parsed.port or 5432))
        host_url = parsed.set(host="127.0.0.1", port=forwarder.port).render_as_string(
            hide_password=False
        )
        settings = {
            "rate_limits": "true",
            "redis_url": f"redis://{REDIS[0]}:{REDIS[1]}/{redis_db}",
            "trusted_proxies": "1",
        }
        hosts: list[Gunicorn] = []
        proxy = running = None
        try:
            for host, name in ((HOST_A, "a"), (HOST_B, "b")):
                hosts.append(
                    Gunicorn(host_url, WORKERS, folder / f"host-{name}.log", host=host, **settings)
                )
            for server in hosts:
                server.wait_until_ready(WORKERS)
            a, b = hosts
            proxy = HAProxy({"app1": f"{HOST_A}:{a.port}", "app2": f"{HOST_B}:{b.port}"}, folder)
            proxy.wait_for({"app1": "UP", "app2": "UP"})
            running = Cluster(a, b, proxy, forwarder, token, folder, host_url, settings)
            yield running
        finally:
            if proxy is not None:
                proxy.stop()
            if running is not None and running.a not in hosts:
                hosts.append(running.a)  # host A as restarted
            for server in hosts:
                server.stop()
            forwarder.cut()


# --- what the deployment promises ---------------------------------------------------


@on_two_hosts
def test_an_edit_through_host_a_is_served_by_host_b_within_a_second(cluster: Cluster) -> None:
    new_name = f"白杨驿站（两台主机测试 {time.time_ns()}）"
    with cluster.proxy.only("app1"):
        current = cluster.proxy.request("GET", f"/api/v1/stations/{STATION}")
        assert current.status == 200, current.body
        lon, lat = current.json()["geometry"]["coordinates"]
        lon, lat = round(lon + 0.0002, 6), round(lat + 0.0001, 6)  # about 20 m away
        change = {
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": new_name},
            "reason": "two hosts",
        }
        edit = cluster.proxy.request(
            "PATCH",
            f"/api/v1/stations/{STATION}",
            body=json.dumps(change).encode(),
            headers={
                "Authorization": f"Bearer {cluster.token}",
                "If-Match": current.headers["etag"],
                "Content-Type": "application/json",
            },
        )
        edited = time.monotonic()
        assert edit.status == 200, edit.body
        assert cluster.workers_of(edit) == "A"

    # Host B, asked directly (new connections, so both its workers answer), for the
    # station and for the nearest station at its new place (B's index rebuilt).
    paths = (f"/api/v1/stations/{STATION}", f"/api/v1/stations/nearest?lat={lat}&lon={lon}&k=1")
    answers: list[tuple[float, str, bool]] = []
    first_fresh: dict[str, float] = {}
    while len(first_fresh) < 2 or time.monotonic() - edited < PROMISE_S + 0.3:
        path = paths[len(answers) % 2]
        sent = time.monotonic()
        seen = call(HOST_B, cluster.b.port, "GET", path)
        assert seen.status == 200, seen.body
        body = seen.json()
        feature = body["features"][0] if "features" in body else body
        fresh = (
            feature["id"] == STATION
            and feature["properties"]["name"] == new_name
            and feature["geometry"]["coordinates"] == [lon, lat]
        )
        answers.append((sent - edited, path, fresh))
        if fresh:
            first_fresh.setdefault(path, sent - edited)
        assert sent - edited < 10, f"host B never served the edit: {first_fresh}"
        time.sleep(0.01)
    took = max(first_fresh.values())
    print(
        f"\n[two hosts] edit through A served by B after {took * 1000:.0f} ms "
        f"(station {first_fresh[paths[0]] * 1000:.0f} ms, nearest "
        f"{first_fresh[paths[1]] * 1000:.0f} ms; {len(answers)} requests to B)"
    )
    late = [(f"{t:.2f} s", path) for t, path, fresh in answers if not fresh and t > PROMISE_S]
    assert late == [], f"host B served the old station more than {PROMISE_S} s after the edit"


@on_two_hosts
def test_the_proxy_not_the_client_tells_the_app_the_scheme_and_host(cluster: Cluster) -> None:
    plain = cluster.proxy.plain_request("GET", "/")
    assert plain.status == 301 and plain.headers["location"].startswith("https://")
    # Discovery's absolute link is built from the scheme and host the app believes.
    forged = cluster.proxy.request(
        "GET",
        "/open311/v2/discovery.json",
        headers={"X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"},
    )
    assert forged.status == 200, forged.body
    link = forged.json()["endpoints"][0]["url"]
    assert link == f"https://127.0.0.1:{cluster.proxy.port}/open311/v2/"
    assert "strict-transport-security" in forged.headers  # the app saw HTTPS


def _post_report(cluster: Cluster, source: str | None = None, **headers: str) -> Answer:
    """An Open311 service request (a courier's report) posted through the proxy."""
    form = {
        "service_code": "safety",
        "lat": "30.31",
        "long": "120.35",
        "description": f"路口积水，两台主机测试 {time.time_ns()}",
    }
    return cluster.proxy.request(
        "POST",
        OPEN311_POST,
        body=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        source=source,
    )


@on_two_hosts
def test_a_rate_limit_reached_through_a_holds_on_b(cluster: Cluster) -> None:
    me = "127.0.0.1"  # this test's client address, as the proxy sees it
    with cluster.proxy.only("app1"):
        answers = [_post_report(cluster, me) for _ in range(OPEN311_LIMIT + 1)]
    accepted = [a for a in answers if a.status in (200, 201)]
    assert len(accepted) == OPEN311_LIMIT, [(a.status, a.body[:200]) for a in answers]
    assert answers[-1].status == 429, answers[-1].body
    assert {cluster.workers_of(a) for a in answers} == {"A"}

    with cluster.proxy.only("app2"):
        on_b = _post_report(cluster, me)
        # A client who writes its own X-Forwarded-For gets no fresh address: HAProxy
        # appends the real one and the app takes the last entry.
        forged = _post_report(cluster, me, **{"X-Forwarded-For": "203.0.113.7"})
        forged_chain = _post_report(cluster, me, **{"X-Forwarded-For": "198.51.100.9, 203.0.113.8"})
        forged_other = _post_report(
            cluster,
            me,
            **{
                "X-Real-IP": "203.0.113.9",
                "Forwarded": "for=203.0.113.9",
                "X_Forwarded_For": "203.0.113.10",  # the same name to a WSGI environ
            },
        )
        # A client who really is elsewhere is counted on its own: the app does see the
        # address HAProxy forwards (not HAProxy's own, which would limit everyone at once).
        elsewhere = _post_report(cluster, "127.0.0.9")
    for answer in (on_b, forged, forged_chain, forged_other):
        assert answer.status == 429, answer.body
        assert cluster.workers_of(answer) == "B"
    assert elsewhere.status in (200, 201), elsewhere.body
    assert cluster.workers_of(elsewhere) == "B"
    print(f"\n[two hosts] Open311 POST limit: {OPEN311_LIMIT} accepted through A, then 429 on B")


@dataclass
class LoadRecord:
    sent: float
    path: str
    status: int  # 0: no HTTP answer at all
    worker: str


def _courier_load(cluster: Cluster, stop: threading.Event, records: list[LoadRecord]) -> None:
    """A courier's GETs through the proxy, one after another, until stopped."""
    paths = (NEAREST, "/")
    number = 0
    while not stop.is_set():
        path = paths[number % 2]
        number += 1
        sent = time.monotonic()
        try:
            answer = cluster.proxy.request("GET", path, headers={"Accept-Language": "zh-CN"})
            records.append(LoadRecord(sent, path, answer.status, answer.worker))
        except (OSError, http.client.HTTPException):  # refused, reset, cut off mid-answer
            records.append(LoadRecord(sent, path, 0, ""))
        time.sleep(0.01)  # steady, not flat out: host A must still be able to start again


@on_two_hosts
def test_killing_host_a_under_load_costs_no_get_and_a_rejoins(cluster: Cluster) -> None:
    records: list[LoadRecord] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_courier_load, args=(cluster, stop, records))
        for _ in range(LOAD_THREADS)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        old_a = set(cluster.a.pids)
        assert any(r.worker in old_a for r in records), "host A served nothing before the kill"
        log_offset = cluster.proxy.log_path.stat().st_size
        killed = time.monotonic()
        cluster.a.kill()
        down_after = cluster.proxy.wait_for({"app1": "DOWN"})
        time.sleep(0.5)
        restarted = time.monotonic()
        new_a = cluster.start_a().pids
        up_after = cluster.proxy.wait_for({"app1": "UP"})
        rejoined = time.monotonic()
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    failed = [r for r in records if r.status == 0 or r.status >= 500]
    after_kill = [r for r in records if r.sent >= killed]
    while_out = [r for r in after_kill if r.sent < rejoined]
    back_on_a = [r for r in records if r.sent >= rejoined and r.worker in new_a]
    retried = cluster.proxy.retried_since(log_offset)
    print(
        f"\n[two hosts] kill A under load: {len(records)} GETs in all, {len(while_out)} from "
        f"the kill until A was back in rotation, {len(failed)} failed; HAProxy saw A down "
        f"{down_after:.1f} s after the kill; A restarted (ready) in "
        f"{rejoined - restarted - up_after:.1f} s and was UP in HAProxy {up_after:.1f} s "
        f"later; {len(back_on_a)} GETs then reached A; HAProxy retried {retried} GETs "
        f"on host B"
    )
    assert not failed, [(f"{r.sent - killed:+.2f} s", r.path, r.status) for r in failed]
    assert retried > 0, "no request was retried: did any reach host A as it died?"
    assert while_out, "no GET was sent while host A was out"
    assert not [r for r in after_kill if r.worker in old_a and r.sent > killed + 0.2]
    assert back_on_a, "host A was restarted but HAProxy sent it no request"


def _logged(host: Gunicorn, method: str, path: str) -> int:
    """How many requests `host`'s request log shows for method and path."""
    count = 0
    for line in host.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                count += entry.get("method") == method and entry.get("path") == path
    return count


def _both_logged(cluster: Cluster, method: str, path: str) -> int:
    return _logged(cluster.a, method, path) + _logged(cluster.b, method, path)


@on_two_hosts
def test_a_database_outage_is_503_on_both_hosts_and_both_recover(cluster: Cluster) -> None:
    hosts = {"A": cluster.a, "B": cluster.b}
    for server in hosts.values():
        assert server.get("/readyz")[0] == 200
    new_station = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [120.341, 30.316]},
        "properties": {
            "name": "两台主机测试驿站",
            "kind": "工会驿站",
            "amenities": ["rest"],
            "opening_hours": "Mo-Su 08:00-20:00",
        },
        "reason": "two hosts",
    }
    # Health checks paused, so that both hosts stay in rotation and answer for
    # themselves: a GET's 503 is retried on the other host, a POST's is not.
    for name in ("app1", "app2"):
        cluster.proxy.admin(f"disable health app/{name}")
    try:
        posts_before = _both_logged(cluster, "POST", "/api/v1/stations")
        deletes_before = _both_logged(cluster, "DELETE", f"/api/v1/stations/{STATION}")
        gets_before = _both_logged(cluster, "GET", f"/api/v1/stations/{STATION}")
        cut = time.monotonic()
        cluster.postgres.cut()
        post = cluster.proxy.request(
            "POST",
            "/api/v1/stations",
            body=json.dumps(new_station).encode(),
            headers={
                "Authorization": f"Bearer {cluster.token}",
                "Content-Type": "application/json",
            },
        )
        # A write without a body is what HAProxy would replay most readily (a body still
        # arriving when the request goes out disables its L7 retries by itself).
        delete = cluster.proxy.request(
            "DELETE",
            f"/api/v1/stations/{STATION}",
            headers={"Authorization": f"Bearer {cluster.token}", "If-Match": '"x"'},
        )
        get = cluster.proxy.request("GET", f"/api/v1/stations/{STATION}")
        time.sleep(0.3)  # the request log lines reach the files
        posts = _both_logged(cluster, "POST", "/api/v1/stations") - posts_before
        deletes = _both_logged(cluster, "DELETE", f"/api/v1/stations/{STATION}") - deletes_before
        gets = _both_logged(cluster, "GET", f"/api/v1/stations/{STATION}") - gets_before
    finally:
        for name in ("app1", "app2"):
            cluster.proxy.admin(f"enable health app/{name}")
    assert post.status == 503, post.body
    assert post.json()["error"]["code"] == "database_unavailable"
    assert posts == 1, f"a POST that failed was sent to the hosts {posts} times"
    assert delete.status == 503, delete.body
    assert deletes == 1, f"a DELETE that failed was sent to the hosts {deletes} times"
    assert get.status == 503, get.body
    assert gets >= 2, f"a GET that got 503 was tried {gets} time(s), not on the other host"

    # Each host, asked directly, says what is wrong: not ready, the database is down. A
    # worker that holds an index and the station's features answers nearest from memory
    # (registry/live_index); one that holds none says 503 like the rest: never a 500.
    seen: list[tuple[float, str, str, int, str]] = []
    while time.monotonic() - cut < 2.0:
        for name, server in hosts.items():
            for path in ("/readyz", NEAREST):
                sent = time.monotonic() - cut
                status, _headers, body = server.get(path)
                code = json.loads(body).get("error", {}).get("code", "") if status != 200 else ""
                seen.append((sent, name, path, status, code))
    settled = [s for s in seen if s[0] > 1.0]
    assert {(name, path) for _t, name, path, _s, _c in settled} == {
        (name, path) for name in hosts for path in ("/readyz", NEAREST)
    }
    expected = {
        "/readyz": {(503, "database_unavailable")},
        NEAREST: {(200, ""), (503, "database_unavailable")},
    }
    wrong = [s for s in settled if s[3:] not in expected[s[2]]]
    assert wrong == [], f"answers more than 1 s into the outage: {wrong[:6]}"
    cluster.proxy.wait_for({"app1": "DOWN", "app2": "DOWN"})
    assert cluster.proxy.request("GET", NEAREST).status == 503  # nobody is ready

    restored = time.monotonic()
    cluster.postgres.restore()
    recovered: dict[str, float] = {}
    while len(recovered) < len(hosts):
        for name, server in hosts.items():
            if name not in recovered and all(
                server.get(path)[0] == 200 for path in ("/readyz", NEAREST)
            ):
                recovered[name] = time.monotonic() - restored
        assert time.monotonic() - restored < 20, f"hosts still failing; recovered {recovered}"
        time.sleep(0.02)
    back_in_proxy = cluster.proxy.wait_for({"app1": "UP", "app2": "UP"})
    through_proxy = cluster.proxy.request("GET", NEAREST)
    assert through_proxy.status == 200, through_proxy.body
    took = time.monotonic() - restored
    print(
        f"\n[two hosts] database outage: after the database came back, host A answered 200 in "
        f"{recovered['A'] * 1000:.0f} ms, host B in {recovered['B'] * 1000:.0f} ms, and "
        f"the proxy served again after {took:.1f} s"
    )
    assert back_in_proxy < 10


def test_the_rendered_configuration_is_the_shipped_one_with_addresses_only() -> None:
    shipped = (REPO / "deploy" / "haproxy.cfg").read_text(encoding="utf-8")
    servers = {"app1": "127.0.0.2:2", "app2": "127.0.0.3:3"}
    rendered = render_haproxy_config(
        shipped, "127.0.0.1:1", "127.0.0.1:4", Path("/c"), servers, Path("/s")
    )
    kept = {line.strip() for line in rendered.splitlines()}
    directive = r"\s*(retries|retry-on|option|http-check|http-request|default-server|timeout)\b"
    rules = [line for line in shipped.splitlines() if re.match(directive, line)]
    assert len(rules) > 15
    assert [line for line in rules if line.strip() not in kept] == []


@pytest.mark.skipif(not os.access(HAPROXY, os.X_OK), reason=f"{HAPROXY} is missing")
def test_haproxy_accepts_the_shipped_configuration(tmp_path: Path) -> None:
    shipped = (REPO / "deploy" / "haproxy.cfg").read_text(encoding="utf-8")
    # Only the certificate is missing here, so the TLS bind names a test one.
    config = tmp_path / "haproxy.cfg"
    config.write_text(shipped.replace(SHIPPED_CERT, str(make_certificate(tmp_path))))
    check = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "WARNING" not in check.stdout + check.stderr, check.stdout + check.stderr


def test_the_environment_file_names_real_settings_with_valid_values() -> None:
    from stationfinder import config

    values: dict[str, str] = {}
    for line in (REPO / "deploy" / "stationfinder.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    unknown = [
        name
        for name in values
        if name.removeprefix(config.PREFIX) not in config.SETTINGS_BY_NAME
        and name not in ("STATIONFINDER_BIND", "WEB_CONCURRENCY")  # gunicorn.conf.py's
    ]
    assert unknown == []
    settings = config.load_settings(values)  # raises on a value the app would refuse
    assert settings["TRUSTED_PROXIES"] == 1 and settings["REDIS_URL"]
    assert settings["DATABASE_URL"].startswith("postgresql+psycopg://")


def test_the_unit_runs_gunicorn_with_the_shipped_settings_and_environment_file() -> None:
    unit = (REPO / "deploy" / "stationfinder.service").read_text()
    lines = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[:1].isalpha()
    )
    assert lines["EnvironmentFile"] == "/etc/stationfinder/stationfinder.env"
    assert (
        "-c /opt/stationfinder/gunicorn.conf.py 'stationfinder:create_app()'"
        in (lines["ExecStart"])
    )
    assert lines["Type"] == "notify"  # gunicorn's master sends READY=1
