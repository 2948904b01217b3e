"""Many clients' retained bursts at once are read a slice per loop turn, not all in one turn.

A cluster process taking over hundreds of homes signs in a client per home and the broker answers
each with its retained messages: read all in one loop turn, they held the loop for about a second
(issue #21). Here 40 clients' bursts (real Mosquitto) are made to land together by holding the
loop while they arrive; then the loop turns are counted while they are read."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

from oneteam.integrations.mqtt import MqttClient
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker
from oneteam.integrations.mqtt.read_slices import READ_SLICE_S, ReadSlice
from tests.integrations.mqtt.conftest import eventually

CLIENTS = 40
RETAINED = 150


async def test_a_turns_read_budget_starts_again_on_the_next_turn() -> None:
    budget = ReadSlice(asyncio.get_running_loop())
    budget.charge(READ_SLICE_S)
    assert budget.exhausted()
    await asyncio.sleep(0)  # one loop turn
    assert not budget.exhausted()
    assert budget.exhausted(READ_SLICE_S)


async def test_bursts_landing_together_are_read_over_many_loop_turns(mosquitto: MosquittoBroker) -> None:
    settings = mosquitto.settings
    async with MqttClient(settings, name="publisher") as publisher:
        assert await publisher.wait_connected(5)
        for client in range(CLIENTS):
            for n in range(RETAINED):
                publisher.publish(f"slices/{client}/{n}", f"{n}", qos=1, retain=True)
        await publisher.publish_acked("slices/done", "1", retain=True)
    received = 0

    def count(topic: str, payload: bytes) -> None:
        nonlocal received
        received += 1

    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(MqttClient(settings, name=f"home-{i}")) for i in range(CLIENTS)
        ]
        for client in clients:
            assert await client.wait_connected(5)
        for i, client in enumerate(clients):
            client.subscribe(f"slices/{i}/#", count)
        for _ in range(3):  # the SUBSCRIBE packets go out
            await asyncio.sleep(0)
        # The loop held on purpose while every burst arrives: all readable in the next turn.
        time.sleep(1.0)  # noqa: ASYNC251
        per_turn: list[int] = []
        seen = received
        wanted = CLIENTS * RETAINED
        deadline = time.monotonic() + 20
        while received < wanted and time.monotonic() < deadline:
            await asyncio.sleep(0)
            per_turn.append(received - seen)
            seen = received
        await eventually(lambda: received == wanted, 5)
    # Before the budget, every client read its whole burst in the turn it became readable:
    # all 6,000 messages in one or two turns. Now no turn reads more than a slice's worth.
    assert max(per_turn) < wanted // 3, per_turn[:20]
    assert sum(1 for n in per_turn if n) >= 3
