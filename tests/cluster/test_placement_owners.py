"""Placement's cache of rendezvous hashing: the same owner as hashing each time, per member set,
and a changed member set hashes again."""

from __future__ import annotations

from oneteam.cluster.placement import Owners, preferred_owner


def test_the_cached_owner_is_hashings_for_each_member_set() -> None:
    owners = Owners()
    three = frozenset({"node-a", "node-b", "node-c"})
    two = frozenset({"node-a", "node-c"})
    homes = [f"home-{i}" for i in range(300)]
    for _ in range(2):  # hashed, then looked up
        assert [owners.owner(h, three) for h in homes] == [preferred_owner(h, sorted(three)) for h in homes]
    # node-b leaves: its homes move, the others stay (rendezvous hashing), answered for the new set.
    moved = [h for h in homes if owners.owner(h, three) == "node-b"]
    assert moved and all(owners.owner(h, two) in two for h in moved)
    assert all(owners.owner(h, two) == owners.owner(h, three) for h in homes if h not in moved)
    assert owners.owner("home-x", frozenset()) is None


def test_many_member_sets_are_not_all_kept() -> None:
    owners = Owners()
    for n in range(3 * Owners.KEPT_SETS):
        members = frozenset({f"node-{n}", "node-z"})
        assert owners.owner("home-1", members) == preferred_owner("home-1", sorted(members))
    assert len(owners._by_set) <= Owners.KEPT_SETS
