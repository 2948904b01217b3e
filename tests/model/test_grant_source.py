"""The activity log's source names the door once, whatever the principal looks like."""

from __future__ import annotations

from oneteam.model import Door, Grant


def test_a_principal_naming_its_door_is_not_doubled() -> None:
    assert Grant(principal="partner:genie", door=Door.PARTNER).source == "partner:genie"
    assert Grant(principal="routine:evening", door=Door.ROUTINE).source == "routine:evening"


def test_a_token_principal_keeps_the_door_it_came_through() -> None:
    assert Grant(principal="token:tablet", door=Door.REST).source == "rest:token:tablet"
    # A principal that names another door is still prefixed with the door it came through.
    assert Grant(principal="partner:genie", door=Door.MCP).source == "mcp:partner:genie"


def test_a_grant_survives_being_stored_with_a_schedule() -> None:
    grant = Grant(
        principal="token:agent",
        door=Door.MCP,
        commands=frozenset({"turn_on", "turn_off"}),
        devices=frozenset({"tv"}),
        token_id=7,
    )
    assert Grant.from_dict(grant.as_dict()) == grant
    unlimited = Grant(principal="routine:r", door=Door.ROUTINE)
    assert Grant.from_dict(unlimited.as_dict()) == unlimited
