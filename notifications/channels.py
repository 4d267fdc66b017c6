"""How a notification leaves AidHub: e-mail, Telegram's Bot API, or a signed webhook.

Each send raises `Transient` (try again later) or `Permanent` (give up and record why)."""

import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.request
from urllib.parse import urlparse

from django.conf import settings
from django.core.mail import EmailMessage


class Transient(Exception):
    pass


class Permanent(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a webhook that redirects is not followed: the 3xx is reported as is


_opener = urllib.request.build_opener(_NoRedirect)


def _post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    if not url.startswith(("https://", "http://")):
        raise Permanent("only http(s) URLs are called")
    all_headers = {"Content-Type": "application/json", "User-Agent": "AidHub", **headers}
    request = urllib.request.Request(url, data=body, method="POST", headers=all_headers)  # noqa: S310 - scheme checked above
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (TimeoutError, OSError) as exc:  # URLError is an OSError; so are timeouts
        raise Transient(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from exc


def _judge(status: int, what: str) -> None:
    if 200 <= status < 300:
        return
    if status == 429 or status >= 500:
        raise Transient(f"{what} answered {status}")
    raise Permanent(f"{what} answered {status}")


def send_email(address: str, subject: str, text: str, unsubscribe_url: str) -> None:
    message = EmailMessage(
        subject,
        text,
        to=[address],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    try:
        message.send()
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
    )
    _judge(status, "Telegram")


def check_webhook_url(url: str) -> None:
    """Refuse URLs that would make AidHub call into a private network (SSRF)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise Permanent("a webhook URL must be http(s) with a host name")
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Transient(f"cannot resolve {parsed.hostname}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_reserved
            or address.is_multicast
            or address.is_unspecified
        ):
            raise Permanent(f"{parsed.hostname} resolves to a private address ({address})")


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(url: str, secret: str, event: str, delivery_id: str, payload: dict) -> None:
    check_webhook_url(url)
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {
        "X-AidHub-Event": event,
        # Stable per notification: a receiver that sees it twice (a retry after a lost answer)
        # can tell it is the same message.
        "X-AidHub-Delivery": delivery_id,
        "X-AidHub-Signature": sign(secret, body),
    }
    _judge(_post_json(url, body, headers, settings.WEBHOOK_TIMEOUT), "The webhook")
