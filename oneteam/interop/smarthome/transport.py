"""Which addresses the partner door may answer at: https anywhere, plain http only on the home
network (loopback, private and link-local addresses, localhost, mDNS and home.arpa names), where
a hub on a LAN address has no certificate. The OAuth server (`oauth.py`) checks every request's
URI with `transport_allowed` before Authlib sees it.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_HOME_NETWORK_SUFFIXES = (".local", ".home.arpa", ".lan", ".internal")


def transport_allowed(uri: str) -> bool:
    """Whether the door may answer at `uri`: https anywhere, plain http only on the home network
    (loopback, private and link-local addresses, localhost, mDNS and home.arpa names), where a
    hub on a LAN address has no certificate. Authlib alone would refuse http beyond loopback."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http" or not host:
        return False
    if host == "localhost" or host.endswith(_HOME_NETWORK_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local
