"""Policy cost per request: resolving the caller's principal and the collections hidden from it.

A SQLite database of 1 000 collections: 100 declare terms (licences among 10, eligible
profiles), 100 are restricted to groups, 800 are public. An account that is a member of three
entities accepted 5 of the licences and holds an API token; a deployment token (before
accounts) is the reference, resolved in the same process. Figures per request, median of
``ROUNDS`` calls:

- cold: the token and its account's standing (roles, entities, profiles, licences) read from
  the database (first request of an account, or after the cache's TTL);
- warm: the token looked up (one indexed query, on every request, so that a revoked token
  stops at once), the account's standing from the in-process cache;
- hidden: the hidden set computed from the cached restrictions and terms.

    python benchmarks/policy.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from terrapole.access import AccessService
from terrapole.access.accounts import Accounts
from terrapole.access.entities import Entities
from terrapole.access.licences import Licences
from terrapole.access.mail import LogMailer
from terrapole.access.profiles import Profile

COLLECTIONS, TERMS, RESTRICTED, LICENCES = 1000, 100, 100, 10
ROUNDS = 2000
PASSWORD = "a long passphrase 42"


def _median_us(call: Callable[[], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _setup(url: str) -> tuple[AccessService, str, str]:
    access = AccessService(url, ttl=3600.0)
    accounts = Accounts(access.engine, mailer=LogMailer(), link_base="http://localhost/account")
    entities = Entities(access.engine, clock=accounts.clock)
    licences = Licences(access.engine, clock=accounts.clock)
    admin = accounts.create_verified("admin@bench.example", PASSWORD, "admin",
                                     roles=frozenset({"admin"}))  # fmt: skip
    user = accounts.create_verified("user@bench.example", PASSWORD, "user")
    profiles = list(Profile)
    for n in range(3):
        entities.create(user, name=f"lab {n}", country="FR", kind="lab",
                        profile_name=profiles[n].value)  # fmt: skip
    ids = [licences.create(admin, f"licence-{n}", f"Licence {n}", "text").id
           for n in range(LICENCES)]  # fmt: skip
    for licence_id in ids[:5]:
        licences.accept(user, licence_id, 1)
    for n in range(TERMS):
        licences.set_terms(admin, f"c{n:04d}", licence_ids=[ids[n % LICENCES]],
                           profiles=[profiles[n % len(profiles)].value])  # fmt: skip
    for n in range(TERMS, TERMS + RESTRICTED):
        access.restrict(f"c{n:04d}", [f"group-{n % 7}"])
    _, user_token = accounts.create_token(user.id, "bench")
    deployment = access.create_token("deployment", groups=["group-1", "group-2"])
    return access, f"Bearer {user_token}", f"Bearer {deployment}"


def main() -> None:
    """Print the per-request figures."""
    with tempfile.TemporaryDirectory() as tmp:
        access, user, deployment = _setup(f"sqlite:///{Path(tmp) / 'policy.db'}")
        resolved = access.authenticate(user)
        hidden = access.hidden_for(resolved)
        print(f"{COLLECTIONS} collections ({TERMS} with terms, {RESTRICTED} restricted to groups)")
        print(f"account: {len(resolved.entities)} entities, {len(resolved.licences)} licences "
              f"accepted; {len(hidden)} collections hidden from it")  # fmt: skip
        rows = []
        for label, header in (("deployment token", deployment), ("account token", user)):

            def cold(h: str = header) -> object:
                access.forget()
                return access.authenticate(h)

            cold_us = _median_us(cold, 300) - _median_us(access.forget, 300)
            warm_us = _median_us(lambda h=header: access.authenticate(h))  # type: ignore[misc]
            principal = access.authenticate(header)
            hidden_us = _median_us(lambda p=principal: access.hidden_for(p))  # type: ignore[misc]
            rows.append((label, cold_us, warm_us, hidden_us))
        print(f"{'':18} {'cold resolve':>14} {'warm resolve':>14} {'hidden set':>12} "
              f"{'warm total':>12}")  # fmt: skip
        for label, cold_us, warm_us, hidden_us in rows:
            print(f"{label:18} {cold_us:11.0f} µs {warm_us:11.1f} µs {hidden_us:9.1f} µs "
                  f"{warm_us + hidden_us:9.1f} µs")  # fmt: skip
        ref, acc = rows
        print(f"account / deployment, warm total: {(acc[2] + acc[3]) / (ref[2] + ref[3]):.2f}; "
              f"cold resolve: {acc[1] / ref[1]:.2f}")  # fmt: skip
        access.close()


if __name__ == "__main__":
    main()
