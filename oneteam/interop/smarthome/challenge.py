"""Two-factor confirmation at the partner door: `ackNeeded` / `pinNeeded` challenges.

A device whose home-file entry says `confirm: ack` or `confirm: pin`, and every door lock, gas
valve and oven by default (model/safety.py: anything a stranger's voice must not open), is
carried out only when the EXECUTE item brings the answer (`"challenge": {"ack": true}` or
`{"pin": "1234"}`). Wrong PINs are counted per device, across partners: after `max_failures`
the device refuses every PIN for `lockout_s` (`tooManyFailedAttempts`), so a PIN cannot be
guessed through retries.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from oneteam.model import Device
from oneteam.model.safety import confirmation_of
from oneteam.model.state_rules import base_name

ACK_NEEDED = "ackNeeded"
PIN_NEEDED = "pinNeeded"
PIN_FAILED = "challengeFailedPinNeeded"
TOO_MANY = "tooManyFailedAttempts"
"""Not a challenge but the final refusal (an errorCode of its own)."""


class ChallengeNeeded(Exception):
    """The EXECUTE item may not run yet: `code` is the errorCode, `challenge` the type to ask for."""

    def __init__(self, code: str, challenge: str | None) -> None:
        super().__init__(code if challenge is None else f"{code}: {challenge}")
        self.code = code
        self.challenge = challenge


@dataclass
class _Tries:
    failures: int = 0
    locked_until: float = 0.0


class Challenges:
    """Decides whether one EXECUTE item may run on a device that asks for confirmation."""

    def __init__(
        self,
        *,
        max_failures: int = 3,
        lockout_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self._clock = clock
        self._tries: dict[str, _Tries] = {}

    def require(self, device: Device, commands: Iterable[str], challenge: object) -> None:
        """Raise ChallengeNeeded unless the commands may run on `device` with this challenge."""
        asked = self.check(device, commands, challenge)
        if asked == TOO_MANY:
            raise ChallengeNeeded(TOO_MANY, None)
        if asked is not None:
            raise ChallengeNeeded("challengeNeeded", asked)

    def check(self, device: Device, commands: Iterable[str], challenge: object) -> str | None:
        """None when the commands may run; else the challenge type to ask for, or TOO_MANY."""
        confirm = confirmation_of(device)
        if confirm is None:
            return None
        kinds = {confirm.kind_for(base_name(c)) for c in commands}
        if kinds <= {None}:
            return None
        now = self._clock()
        tries = self._tries.get(device.id)
        if tries is not None and tries.locked_until > now:
            return TOO_MANY
        given = challenge if isinstance(challenge, Mapping) else {}
        if "pin" not in kinds:
            return None if given.get("ack") is True else ACK_NEEDED
        pin = given.get("pin")
        return PIN_NEEDED if pin is None else self._pin(device.id, confirm.pin, pin, now)

    def _pin(self, device_id: str, expected: str, pin: object, now: float) -> str | None:
        if isinstance(pin, str) and hmac.compare_digest(pin.encode(), expected.encode()):
            self._tries.pop(device_id, None)
            return None
        tries = self._tries.setdefault(device_id, _Tries())
        tries.failures += 1
        if tries.failures >= self.max_failures:
            self._tries[device_id] = _Tries(locked_until=now + self.lockout_s)
            return TOO_MANY
        return PIN_FAILED
