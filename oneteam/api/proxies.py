"""Whose `X-Forwarded-For` the hub believes: nobody's, unless the operator names its proxies.

uvicorn on its own believes the header from 127.0.0.1, so any program on the hub's machine could
choose the address that the sign-in slowing (api/signin_limit.py) counts, and start afresh with
every guess. A reverse proxy the operator runs is named with `--trusted-proxy` (or
`trusted_proxies`); uvicorn's ProxyHeadersMiddleware then takes the caller from the header, as
far back as the chain passes through named proxies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oneteam.api.ws import SERVER_OPTIONS


def server_options(trusted_proxies: Sequence[str] = ()) -> dict[str, Any]:
    """uvicorn settings for a hub or a cluster process."""
    return {
        **SERVER_OPTIONS,
        "proxy_headers": bool(trusted_proxies),
        "forwarded_allow_ips": list(trusted_proxies) or None,
    }
