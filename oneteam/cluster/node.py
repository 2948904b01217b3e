"""One service process of the cluster: shared stores, leases, placement, the host, one HTTP port.

`run_node` is what `oneteam serve --cluster` runs. The process joins the cluster (cluster_members),
takes the homes placement gives it and serves them at `/homes/{home_id}/...` until SIGINT/SIGTERM,
then closes its homes, releases their leases and leaves, so the others take them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import uvicorn

from oneteam.api.proxies import server_options
from oneteam.cluster.heap import Heap
from oneteam.cluster.host import HomeHost
from oneteam.cluster.lease import LEASE_S, LeaseTable
from oneteam.cluster.peers import cluster_peer_key
from oneteam.cluster.pgshared import SharedPostgres
from oneteam.cluster.placement import Placement
from oneteam.cluster.tenant_stores import TenantStores
from oneteam.interop.smarthome.sealed import KEY_FILE_NAME

_LOGGER = logging.getLogger(__name__)


@asynccontextmanager
async def home_stores(url: str) -> AsyncIterator[SharedPostgres]:
    """Every home's hub stores on the shared, partitioned tables: one pool, one writer, one
    listener for the whole process (cluster/pgshared.py)."""
    shared = SharedPostgres(url)
    await shared.open()
    try:
        yield shared
    finally:
        await shared.close()


async def run_node(
    *,
    database_url: str,
    node_id: str,
    host: str,
    port: int,
    data_dir: Path,
    broker_url: str | None,
    address: str | None = None,
    parts: Iterable[str] = ("virtual", "mqtt", "conversation", "smarthome"),
    lease_s: float = LEASE_S,
    trusted_proxies: Sequence[str] = (),
) -> None:
    """Serve this process's share of the homes until SIGINT or SIGTERM."""
    leases = LeaseTable(database_url, node_id, address or f"http://{host}:{port}", lease_s=lease_s)
    await leases.open()
    async with AsyncExitStack() as stack:
        stack.push_async_callback(leases.close)
        # The same table on a second connection, for requests asking where a home is served.
        lookups = LeaseTable(database_url, node_id, leases.address, lease_s=lease_s)
        await lookups.open()
        stack.push_async_callback(lookups.close)
        stores = await stack.enter_async_context(home_stores(database_url))
        # Every node must read the same partner key (docs/operator.md): it lives in --data-dir.
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
        tenants = TenantStores(database_url, partner_key=data_dir / KEY_FILE_NAME)
        await tenants.open()
        stack.push_async_callback(tenants.close)
        homes = HomeHost(
            leases,
            lambda home, epoch: stores.storage(home, epoch=epoch),
            tenants=tenants,
            data_dir=data_dir,
            broker_url=broker_url,
            parts=parts,
            # proxy (default): any process answers for any home; redirect: 307 to the owner.
            forward=os.environ.get("ONETEAM_CLUSTER_FORWARD", "proxy"),
            preloads=stores,
            peer_key=await cluster_peer_key(database_url),  # whose X-Forwarded-For is believed
            lookups=lookups,
        )
        stack.push_async_callback(homes.close)
        server = _Server(
            uvicorn.Config(
                homes,
                host=host,
                port=port,
                log_level="warning",
                lifespan="off",
                **server_options(trusted_proxies),
            )
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        async with Placement(leases, homes, heap=Heap()):  # the process's collector policy
            await server.serve()
        _LOGGER.info("node %s stopping: closing its homes and leaving the cluster", node_id)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (it raises a caught SIGTERM again after serving,
    before placement could close the homes and release their leases); run_node handles them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield
