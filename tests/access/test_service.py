from __future__ import annotations

from pathlib import Path

from terrapole.access import AccessService
from terrapole.access.policy import ANONYMOUS


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_restriction_made_by_another_process_takes_effect_after_the_ttl(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'access.db'}"
    clock = Clock()
    server = AccessService(url, ttl=2.0, clock=clock)  # the running server
    cli = AccessService(url)  # `terrapole collections restrict` in another process
    assert server.hidden_for(ANONYMOUS) == frozenset()
    cli.restrict("secret", ["partners"])
    clock.now += 1.9  # within the TTL the server answers from its cache
    assert server.hidden_for(ANONYMOUS) == frozenset()
    clock.now += 0.2  # past it, the server reads the restriction
    assert server.hidden_for(ANONYMOUS) == frozenset({"secret"})
    server.restrict("secret", [])  # a change made here drops the cache at once
    assert server.hidden_for(ANONYMOUS) == frozenset()
    server.close()
    cli.close()
