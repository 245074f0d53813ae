"""Where an outgoing webhook (a partner's, the monitor's Slack alerts) may point, and a
connection pinned to the address that was checked. Core: it knows no app, so any may use it.

A webhook URL is typed by staff (or, one day, by a partner) and the server POSTs to it: unchecked,
it is a server-side request forgery handed out for free. http://169.254.169.254/ reads cloud
credentials, http://127.0.0.1:6379/ talks to Redis, http://10.0.0.1/ reaches the internal
network. So a URL must name a host whose every address is globally routable (production also
requires https), checked when the endpoint is saved and again at each send on the address the
name resolves to *then*; the request goes to that very address (the Host header and TLS name
stay the URL's), so a DNS answer that changes between the check and the connection (DNS
rebinding) cannot slip a private address in.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class WebhookTarget:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    address: str  # the checked IP the connection goes to


def webhook_target(url: str) -> WebhookTarget:
    """The URL's parts and a checked address to connect to; ValidationError saying why not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValidationError(f"The webhook URL is not valid: {error}.", code="invalid") from None
    allowed = ("https",) if settings.SENTINEL_WEBHOOK_HTTPS_ONLY else ("https", "http")
    if parts.scheme not in allowed:
        raise ValidationError(
            f"The webhook URL must start with {' or '.join(s + '://' for s in allowed)}.",
            code="scheme",
        )
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ValidationError(
            "The webhook URL must name a host, with no user name or password in it.",
            code="host",
        )
    port = port or (443 if parts.scheme == "https" else 80)
    address = _checked_address(parts.hostname, port)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookTarget(parts.scheme, parts.hostname, port, target, address)


def check_webhook_url(url: str) -> None:
    webhook_target(url)


def post_pinned(target: WebhookTarget, body: bytes, headers: dict, timeout: float) -> int:
    """POST to the checked address; the HTTP status. The reply's body is never read (a
    partner's answer is not ours to store or show). urllib3 errors propagate."""
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    options = {"timeout": urllib3.Timeout(connect=timeout, read=timeout), "retries": False}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
    try:
        response = pool.urlopen(
            "POST",
            target.target,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            preload_content=False,
            retries=False,
        )
        status = response.status
        response.release_conn()
        return status
    finally:
        pool.close()


def _checked_address(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ValidationError(
            f"The webhook host {host!r} does not resolve.", code="unresolvable"
        ) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise ValidationError(f"The webhook host {host!r} does not resolve.", code="unresolvable")
    if not settings.SENTINEL_WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            if not _is_public(address):
                raise ValidationError(
                    f"The webhook host {host!r} resolves to {address}, which is not a public "
                    "address (loopback, private, link-local and reserved ranges are refused).",
                    code="private_address",
                )
    return addresses[0]


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates = [ip]
    if ip.version == 6:
        embedded = [ip.ipv4_mapped, ip.sixtofour, ip.teredo and ip.teredo[1]]
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        candidates += [inner for inner in embedded if inner is not None]
    return all(c.is_global and not c.is_multicast for c in candidates)
