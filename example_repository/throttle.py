"""Login and registration throttling, with the storage of Flask-Limiter (the ``limits`` library).

Failed logins are counted per account (the email typed) and per address; while either is over
its limit, every attempt, even with the right password, is answered 429. Registrations are
counted per address.

Storage: ``REPOSITORY_RATELIMIT_STORAGE_URI``. The default ``memory://`` keeps the counts in
the process, which is right for ``make demo`` and one-process servers; a deployment running
several processes or machines sets a shared store, e.g. ``redis://127.0.0.1:6379`` (needs the
``redis`` package) or any other storage ``limits`` supports, so every process sees every
attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

__all__ = ["Throttle", "init_app", "throttle"]


@dataclass
class Throttle:
    limiter: MovingWindowRateLimiter
    account_limits: list[RateLimitItem]
    address_limits: list[RateLimitItem]
    register_limits: list[RateLimitItem]

    def login_allowed(self, account: str, address: str) -> bool:
        """May someone try a password for ``account`` from ``address`` now?"""
        return all(self.limiter.test(limit, "login-account", account)
                   for limit in self.account_limits) and all(
            self.limiter.test(limit, "login-address", address) for limit in self.address_limits)

    def login_failed(self, account: str, address: str) -> None:
        for limit in self.account_limits:
            self.limiter.hit(limit, "login-account", account)
        for limit in self.address_limits:
            self.limiter.hit(limit, "login-address", address)

    def login_succeeded(self, account: str) -> None:
        """The owner got in: their earlier typos no longer count against the account."""
        for limit in self.account_limits:
            self.limiter.clear(limit, "login-account", account)

    def register_allowed(self, address: str) -> bool:
        """Count a registration from ``address``; False once over the limit."""
        return all([self.limiter.hit(limit, "register-address", address)
                    for limit in self.register_limits])


def init_app(app: Flask) -> None:
    cfg = app.config
    storage = storage_from_string(cfg["REPOSITORY_RATELIMIT_STORAGE_URI"])
    app.extensions["repository_throttle"] = Throttle(
        limiter=MovingWindowRateLimiter(storage),
        account_limits=parse_many(cfg["REPOSITORY_LOGIN_LIMITS_PER_ACCOUNT"]),
        address_limits=parse_many(cfg["REPOSITORY_LOGIN_LIMITS_PER_ADDRESS"]),
        register_limits=parse_many(cfg["REPOSITORY_REGISTER_LIMITS_PER_ADDRESS"]),
    )


def throttle() -> Any:
    """This app's :class:`Throttle`."""
    return current_app.extensions["repository_throttle"]
