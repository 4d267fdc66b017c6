"""How a notification leaves AidHub: e-mail, Telegram's Bot API, or a signed webhook.

Each send raises `Transient` (try again later) or `Permanent` (give up and record why)."""

import contextlib
import functools
import hashlib
import hmac
import http.client
import io
import ipaddress
import json
import os
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlparse

from django.conf import settings
from django.core.mail import EmailMessage

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Transient(Exception):
    pass


class Permanent(Exception):
    pass


class _Deadline:
    """One wall-clock limit for a whole exchange. A socket timeout alone bounds each read, and
    a receiver that drips its answer a byte at a time would keep it from ever firing."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        left = self._end - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out: no whole answer within the time allowed")
        return left


def _connect(ips: list[str], port: int, deadline: _Deadline) -> socket.socket:
    """A TCP connection to the first of the checked addresses that answers."""
    error: OSError | None = None
    for ip in ips:
        try:
            sock = socket.create_connection((ip, port), deadline.left())
        except OSError as exc:
            error = exc
        else:
            sock.settimeout(deadline.left())  # TLS bounds its whole handshake by this
            return sock
    raise error or OSError("no address to connect to")


class _DeadlineReader(io.RawIOBase):
    """The socket as the response parser reads it: each read may wait only for the time left."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._sock.settimeout(self._deadline.left())
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """All `HTTPResponse` asks of its socket is a file to read from."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock, self._deadline = sock, deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args, deadline: _Deadline, **kwargs) -> None:
        super().__init__(_DeadlineSocket(sock, deadline), *args, **kwargs)  # type: ignore[arg-type]


class _DeadlineMixin:
    """Connect, send and read the answer within one deadline."""

    sock: socket.socket | None

    def _use_deadline(self, ips: list[str], deadline: _Deadline) -> None:
        self._ips, self._deadline = ips, deadline
        self.response_class = functools.partial(_DeadlineResponse, deadline=deadline)

    def send(self, data) -> None:
        if self.sock is not None:
            self.sock.settimeout(self._deadline.left())  # sendall: a total, not per chunk
        super().send(data)  # type: ignore[misc]


class _PinnedHTTPConnection(_DeadlineMixin, http.client.HTTPConnection):
    """Connects to the addresses that were checked, not to whatever the name resolves to a
    moment later (DNS rebinding); the Host header still carries the name."""

    def __init__(self, host: str, port: int, ips: list[str], deadline: _Deadline):
        super().__init__(host, port, timeout=deadline.left())
        self._use_deadline(ips, deadline)

    def connect(self) -> None:
        self.sock = _connect(self._ips, self.port, self._deadline)


class _PinnedHTTPSConnection(_DeadlineMixin, http.client.HTTPSConnection):
    """The same for HTTPS: TCP to a checked address, TLS with SNI and the certificate checked
    for the name."""

    def __init__(self, host: str, port: int, ips: list[str], deadline: _Deadline):
        super().__init__(host, port, timeout=deadline.left(), context=ssl.create_default_context())
        self._use_deadline(ips, deadline)

    def connect(self) -> None:
        sock = _connect(self._ips, self.port, self._deadline)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo, NAT64), or itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address.sixtofour:
            return address.sixtofour
        if address.teredo:
            return address.teredo[1]
        if any(address in network for network in _WRAPS_IPV4):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


# IPv6 ranges whose last 32 bits are an IPv4 address a translator may reach: NAT64 (RFC 6052),
# local-use NAT64 (RFC 8215), IPv4-translated (SIIT, RFC 2765) and the old IPv4-compatible form.
_WRAPS_IPV4 = [
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
    ipaddress.IPv6Network("::/96"),
]
# Deprecated site-local addresses are private in practice, though Python calls them global.
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")


def is_public(address: IPAddress) -> bool:
    """Only globally routable unicast addresses: not private, loopback, link-local, shared
    (CGNAT), reserved, documentation, unspecified (0.0.0.0, ::) or multicast, whatever
    IPv6 form wraps them."""
    if isinstance(address, ipaddress.IPv6Address) and address in _SITE_LOCAL:
        return False
    address = _embedded_ipv4(address)
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve `host` once and return the addresses to connect to. Every address the name has
    must be public (unless `allow_private`): a name with one private address among public
    ones is refused, so a resolver that rotates answers cannot slip one in."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Transient(f"cannot resolve {host}: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise Transient(f"cannot resolve {host}")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise Permanent(f"{host} resolves to a private address ({address})")
    return list(dict.fromkeys(str(address) for address in addresses))


@dataclass
class _Resolvers:
    """This process's lookup threads, and the hosts with a lookup in one of them."""

    pid: int
    pool: ThreadPoolExecutor
    in_flight: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


_RESOLVERS: _Resolvers | None = None


def _resolver() -> _Resolvers:
    """Threads for name lookups, made anew in each process (a Celery worker forks)."""
    global _RESOLVERS
    if _RESOLVERS is None or _RESOLVERS.pid != os.getpid():
        _RESOLVERS = _Resolvers(os.getpid(), ThreadPoolExecutor(8, thread_name_prefix="resolve"))
    return _RESOLVERS


def resolve_within(host: str, port: int, deadline: _Deadline, *, allow_private: bool) -> list[str]:
    """`resolve`, given at most the time the deadline has left: getaddrinfo has no timeout of
    its own (a slow resolver takes as long as it likes), so it runs in a thread that is left to
    finish alone once the time is up. That thread stays taken meanwhile, so a host has at most
    one lookup in flight: another send to it while it still hangs fails at once (transient),
    and one slow domain cannot take every thread from the other hosts."""
    resolvers, name = _resolver(), host.lower().rstrip(".")
    with resolvers.lock:
        if name in resolvers.in_flight:
            raise Transient(f"cannot resolve {host}: its previous lookup has not finished")
        resolvers.in_flight.add(name)

    def done(_future=None) -> None:
        with resolvers.lock:
            resolvers.in_flight.discard(name)

    try:
        future = resolvers.pool.submit(resolve, host, port, allow_private=allow_private)
    except BaseException:
        done()
        raise
    future.add_done_callback(done)
    try:
        return future.result(timeout=deadline.left())
    except TimeoutError as exc:  # concurrent.futures raises the builtin one since 3.11
        future.cancel()  # if still queued behind lookups that hang
        raise Transient(f"TimeoutError: cannot resolve {host} in the time allowed") from exc


def _post_json(
    url: str, body: bytes, headers: dict[str, str], timeout: float, *, allow_private: bool
) -> int:
    """POST `body` to `url` and return the status, all within `timeout` seconds (resolving,
    connecting, TLS, sending and reading the answer together). The name is resolved once,
    checked, and that very address is connected to; redirects are not followed (a 3xx is the
    answer). Only the status line and headers are read (http.client caps them at 100 lines of
    64 KiB); the body is never read."""
    deadline = _Deadline(timeout)
    parsed = urlparse(url)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise Permanent("only http(s) URLs with a host name are called")
    https = parsed.scheme == "https"
    try:
        port = parsed.port or (443 if https else 80)
    except ValueError as exc:
        raise Permanent(f"bad port in {parsed.netloc}") from exc
    ips = resolve_within(parsed.hostname, port, deadline, allow_private=allow_private)
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    path = parsed.path or "/"
    if parsed.query:
        path = f"{path}?{parsed.query}"
    all_headers = {"Content-Type": "application/json", "User-Agent": "AidHub", **headers}
    try:
        connection = connection_class(parsed.hostname, port, ips, deadline)
    except TimeoutError as exc:  # resolving took all the time there was
        raise Transient(f"{type(exc).__name__}: {exc}") from exc
    try:
        connection.request("POST", path, body=body, headers=all_headers)
        return connection.getresponse().status
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise Transient(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()


def _judge(status: int, what: str) -> None:
    if 200 <= status < 300:
        return
    if status == 429 or status >= 500:
        raise Transient(f"{what} answered {status}")
    raise Permanent(f"{what} answered {status}")


def header_safe(text: str) -> str:
    """One line, fit for a mail header: a place or fundraiser named with a line break (or a
    CR/LF smuggling "Bcc: …") becomes one line of words, never a header of its own."""
    return " ".join(str(text).split())


def send_email(address: str, subject: str, text: str, unsubscribe_url: str) -> None:
    message = EmailMessage(
        header_safe(subject),
        text,
        to=[address],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    try:
        message.send()
    except ValueError as exc:  # a header the mail library refuses: it would refuse it again
        raise Permanent(str(exc)) from exc
    except (OSError, TimeoutError) as exc:
        raise Transient(str(exc)) from exc


def send_telegram(chat_id: str, text: str, photo_url: str = "") -> None:
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise Permanent("TELEGRAM_BOT_TOKEN is not set")
    base = settings.TELEGRAM_API_URL.rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise Permanent("TELEGRAM_API_URL must be http(s)")
    if photo_url:
        method, payload = "sendPhoto", {"chat_id": chat_id, "photo": photo_url, "caption": text}
    else:
        method, payload = "sendMessage", {"chat_id": chat_id, "text": text}
    status = _post_json(
        f"{base}/bot{token}/{method}",
        json.dumps(payload).encode(),
        {},
        settings.NOTIFICATION_HTTP_TIMEOUT,
        # The Bot API's address is the operator's setting (a local Bot API server is fine).
        allow_private=True,
    )
    _judge(status, "Telegram")


def check_webhook_url(url: str) -> None:
    """Refuse URLs that would make AidHub call into a private network (SSRF): at subscribe
    time, so the subscriber hears it at once. Sending checks again, on the address it uses."""
    parsed = urlparse(url)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise Permanent("a webhook URL must be http(s) with a host name")
    try:
        port = parsed.port or 443
    except ValueError as exc:
        raise Permanent(f"bad port in {parsed.netloc}") from exc
    if not settings.WEBHOOK_ALLOW_PRIVATE:  # in development anything goes, even a name not yet up
        resolve(parsed.hostname, port, allow_private=False)


def webhook_host(url: str) -> str:
    """The host a URL calls, in one spelling whatever way it is written: `Example.COM`,
    `example.com.` and `bücher.example` / `xn--bcher-kva.example` each name one host (the port
    is not part of it). The IDNA codec is Python's, the one the connection itself uses. An IP
    literal counts as the IPv4 address it wraps, if any. Subdomains are hosts of their own
    (`a.example.com`, `b.example.com`), even where one wildcard name serves them all."""
    host = urlparse(url).hostname or ""
    try:
        # `[::ffff:93.184.216.34]`, its NAT64 or 6to4 forms and `93.184.216.34` reach one host.
        return str(_embedded_ipv4(ipaddress.ip_address(host)))
    except ValueError:
        pass
    # A host the codec refuses cannot be resolved either: it fails, under the spelling it has.
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    return host.rstrip(".").lower()


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(url: str, secret: str, event: str, delivery_id: str, payload: dict) -> None:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {
        "X-AidHub-Event": event,
        # Stable per notification: a receiver that sees it twice (a retry after a lost answer)
        # can tell it is the same message.
        "X-AidHub-Delivery": delivery_id,
        "X-AidHub-Signature": sign(secret, body),
    }
    status = _post_json(
        url, body, headers, settings.WEBHOOK_TIMEOUT, allow_private=settings.WEBHOOK_ALLOW_PRIVATE
    )
    _judge(status, "The webhook")
