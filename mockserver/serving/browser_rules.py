"""What a web page may do to the mock (docs/ci.md, "Host names and web pages"): which Host names are answered, and
which requests from another origin are refused.

* DNS rebinding: a page on `evil.example` can point its own name at 127.0.0.1
  and then read and write the mock as its own origin. Only Host names that no
  page can rebind are answered: IP literals, `localhost` and `*.localhost`,
  single-label names (a compose or Kubernetes service such as `emma-mock`),
  and the names given to `--allowed-hosts` (`*`: any). A request without a
  Host (HTTP/1.0) comes from no browser and is answered.
* Cross-site writes: a page anywhere can POST a form or a `no-cors` fetch to
  `http://127.0.0.1:8080`; it cannot read the answer, but the write would
  happen. A request carrying an `Origin` that is not this server's (`null`
  included: sandboxed frames, `file:` pages) or `Sec-Fetch-Site: cross-site`
  is answered only for GET, HEAD and OPTIONS. Clients that are not browsers
  (curl, requests, the pytest plugin) send neither header.

No answer carries CORS headers, so what another origin may send it still cannot read.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from ..core.errors import shown

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # answered whatever origin sent them
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_CACHED_HOST_CHARS = 256  # longer Host values are read each time, so the cache stays small


def refusal(environ: dict[str, Any], allowed_hosts: frozenset[str]) -> str | None:
    """Why this request is refused (the message of a 403), or None when it may proceed."""
    host = environ.get("HTTP_HOST") or None
    target = environ.get("REQUEST_URI") or ""
    if target[:8].lower().startswith(("http://", "https://")):  # absolute form: its authority is the host (RFC 9112)
        host = target.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0] or host
    if host is not None and not host_answered(host, allowed_hosts):
        split = _split_authority(host)
        name = shown(split[0].removesuffix(".") if split else host)
        return (f"this mock does not answer the Host {shown(host)}: a web page could point that name at it "
                "(DNS rebinding). It answers IP addresses, localhost, *.localhost and single-label names "
                f"such as a compose service; to answer {name} too, start it with --allowed-hosts {name} "
                "(or MOCKSERVER_ALLOWED_HOSTS; comma-separated, '*' for any name)")
    method = environ.get("REQUEST_METHOD", "GET").upper()
    if method in READ_METHODS:
        return None
    origin = environ.get("HTTP_ORIGIN")
    cross_site = environ.get("HTTP_SEC_FETCH_SITE", "").strip().lower() == "cross-site"
    if not cross_site and (origin is None or same_origin(origin, host)):
        return None
    sender = shown(origin) if origin is not None else "another site (Sec-Fetch-Site: cross-site)"
    return (f"a page on another origin ({sender}) may not change this mock: {shown(method, 40)} refused. "
            "From another origin only GET, HEAD and OPTIONS are answered; use the dashboard this server "
            "serves, or a client that is not a browser (curl, your tests)")


def host_answered(host: str, allowed_hosts: frozenset[str]) -> bool:
    """Whether a request with this Host header is answered (see the module's docstring)."""
    if len(host) <= _CACHED_HOST_CHARS:
        return _host_answered_cached(host, allowed_hosts)
    return _host_answered(host, allowed_hosts)


def _host_answered(host: str, allowed_hosts: frozenset[str]) -> bool:
    if "*" in allowed_hosts:
        return True
    split = _split_authority(host)
    if split is None:
        return False
    name, _ = split
    bare = name[:-1] if name.endswith(".") else name  # `localhost.` is the same name, written whole
    if _is_ip(bare) or bare == "localhost" or bare.endswith(".localhost") or bare in allowed_hosts:
        return True
    # One label, as written: `emma-mock` is a service name of the local resolver; `emma-mock.` would be a
    # top-level domain.
    return bool(name) and "." not in name


_host_answered_cached = lru_cache(maxsize=256)(_host_answered)


def same_origin(origin: str, host: str | None) -> bool:
    """Whether `Origin` names this server as the client reached it (scheme http or https, the Host's
    name and port; a Host without a port matches the scheme's default port)."""
    if host is None:
        return False  # a browser always sends Host: an Origin without one proves nothing
    scheme, separator, authority = origin.partition("://")
    default_port = _DEFAULT_PORTS.get(scheme.lower())
    ours, theirs = _split_authority(host), _split_authority(authority)
    if not separator or default_port is None or ours is None or theirs is None:
        return False  # `null`, a file: or extension origin, something unreadable
    (our_name, our_port), (their_name, their_port) = ours, theirs
    return our_name == their_name and (our_port or default_port) == (their_port or default_port)


def _split_authority(authority: str) -> tuple[str, str | None] | None:
    """(lower-cased name, port or None) of `name[:port]` or `[v6][:port]`; None when it is neither."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        end = authority.find("]")
        name, rest = authority[1:end], authority[end + 1:]
        if end < 0 or not _is_ip(name, version=6):
            return None
        name = "[" + name + "]"
    elif authority.count(":") > 1:
        return (authority, None) if _is_ip(authority, version=6) else None  # an unbracketed v6 address
    else:
        name, colon, rest = authority.partition(":")
        rest = colon + rest
    if rest[:1] != ":" and rest:
        return None
    port = rest[1:]
    if not port:
        return name, None  # `localhost:` names no port: the default one
    if not (port.isascii() and port.isdigit() and len(port) <= 5):
        return None
    return name, str(int(port))


def _is_ip(name: str, version: int | None = None) -> bool:
    text = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return version is None or address.version == version
