"""Which network addresses the portal may send to: the rules, in one pure module (no Flask).

Used when a webhook endpoint is registered (its host, if an address literal, is normalised and checked) and
at every delivery attempt (each address the name resolves to is checked before connecting).

A host is read the way resolvers and browsers read it (the WHATWG URL IPv4 parser, which glibc's
inet_aton agrees with): `2130706433`, `0x7f000001`, `0177.0.0.1` and `127.1` all mean 127.0.0.1. An IPv6
address counts as public only if it, and every IPv4 address it embeds (IPv4-mapped and -compatible, NAT64
64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32 server and client), is public. The local-use NAT64 prefix
64:ff9b:1::/48 is never public: the IPv4 address it embeds depends on the site's own configuration.
"""
from __future__ import annotations

import ipaddress

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


_DIGITS = {8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


class NotAnAddress(ValueError):
    """The host looks like an IPv4 address (it ends in a number) but is not a valid one."""


def _ipv4_number(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if digits == "":
        return 0  # "0x" alone is zero, as in the URL standard
    if not all(c in _DIGITS[base] for c in digits):
        raise NotAnAddress(part)
    return int(digits, base)


def _ends_in_number(host: str) -> bool:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]
    last = parts[-1]
    if last and all(c.isdigit() for c in last):
        return True
    return last[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in last[2:])


def _parse_ipv4(host: str) -> ipaddress.IPv4Address:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]
    if len(parts) > 4 or any(p == "" for p in parts):
        raise NotAnAddress(host)
    numbers = [_ipv4_number(p) for p in parts]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise NotAnAddress(host)
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def host_address(host: str) -> Address | None:
    """The address a URL's host names literally (in any of its written forms), or None for a name.

    Raises NotAnAddress for a host that ends in a number but is no valid IPv4 address (`1.2.3.999`)."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%")[0])
        except ValueError:
            raise NotAnAddress(host) from None
    if not host or not _ends_in_number(host):
        return None
    return _parse_ipv4(host)


def normalised_host(host: str) -> str:
    """The host as it is stored: an address literal in its canonical form (IPv6 bracketed), a name lower-case
    without a trailing dot."""
    address = host_address(host)
    if address is None:
        return host.strip().lower().rstrip(".")
    return f"[{address.compressed}]" if address.version == 6 else str(address)


def embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (and so reaches, through a translator or tunnel)."""
    if address.version == 4:
        return []
    found = []
    if address.ipv4_mapped:
        found.append(address.ipv4_mapped)
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.sixtofour:
        found.append(address.sixtofour)
    if address.teredo:
        found.extend(address.teredo)
    return found


def is_loopback(address: Address) -> bool:
    return address.is_loopback or any(v4.is_loopback for v4 in embedded_ipv4(address))


def is_public(address: Address) -> bool:
    """Whether the portal may connect to the address in production: on the public internet, and so is every
    IPv4 address it embeds."""
    if address.version == 6 and address in _NAT64_LOCAL:
        return False
    return address.is_global and all(v4.is_global for v4 in embedded_ipv4(address))


def is_loopback_name(host: str) -> bool:
    host = host.strip().lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")
