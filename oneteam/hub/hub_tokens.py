"""The hub's bearer-token methods: make, check, turn into a Grant, revoke. A mixin of `Hub`, so
every door keeps calling `hub.grant_for(...)`; the work is done by the household and the keeper."""

from __future__ import annotations

from oneteam.hub.household import Household
from oneteam.hub.storage import TokenRecord
from oneteam.hub.tokens import TokenKeeper, hash_token, new_token
from oneteam.model import Door, Grant


class HubTokens:
    """Token and grant methods over `household` (members, sessions, tokens) and `tokens` (hub tokens)."""

    household: Household
    tokens: TokenKeeper

    async def create_token(self, name: str, *, door: str | None = None) -> str:
        """A new bearer token; only its hash is kept. `door` marks a token handed to a door
        process (`mcp`), which the activity log then shows as that door."""
        token = new_token()
        await self.household.store_token(name, hash_token(token), door=door)
        return token

    async def authenticate(self, token: str) -> TokenRecord | None:
        """Who a bearer token is (its stored record), or None; a revoked token fails at once."""
        return await self.tokens.authenticate(token)

    async def check_token(self, token: str) -> bool:
        """Whether `token` is valid: a hub token, a member's token or a sign-in session."""
        return await self.household.caller(token) is not None

    async def grant_for(self, token: str, door: Door) -> Grant | None:
        """The Grant of a bearer value (hub token, member's token or sign-in session) through
        `door`, or None when it is unknown, revoked or expired: the check every door makes."""
        return await self.household.grant(token, door)

    async def grant_now(self, booked: Grant) -> Grant | None:
        """A booked Grant as it stands now, or None when whoever booked it may no longer act
        (a revoked token, a removed member): what a schedule checks when it falls due."""
        return await self.household.grant_now(booked)

    async def revoke_token(self, token_id: int) -> bool:
        """Revoke a token: every door refuses it from the next request, open sockets close."""
        removed = await self.tokens.revoke(token_id)
        self.household.forget()
        return removed
