from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from terrapole.access import AccessService
from terrapole.access import service as service_module
from terrapole.access.eligibility import Standing
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


def test_a_standing_read_while_a_change_is_forgotten_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that read an account before a change must not cache that old standing after
    the change's forget(): the next request reads the account again."""
    service = AccessService(f"sqlite:///{tmp_path / 'access.db'}", ttl=60.0, clock=Clock())
    reads: list[str] = []

    def read_during_a_change(con: Any, user_id: str) -> Standing | None:
        reads.append(user_id)
        if len(reads) == 1:
            service.forget()  # another request's change lands while this one reads
        return None

    monkeypatch.setattr(service_module, "standing", read_during_a_change)
    service.standing("u1")
    service.standing("u1")  # the first answer was not kept: read again
    service.standing("u1")  # the second was: served from the cache
    assert reads == ["u1", "u1"]
    service.close()
