from __future__ import annotations

import time
from pathlib import Path

from terrapole.access import AccessService
from terrapole.access.policy import ANONYMOUS


def test_a_restriction_made_by_another_process_takes_effect_after_the_ttl(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'access.db'}"
    server = AccessService(url, ttl=0.2)  # the running server
    cli = AccessService(url)  # `terrapole collections restrict` in another process
    assert server.hidden_for(ANONYMOUS) == frozenset()
    cli.restrict("secret", ["partners"])
    time.sleep(0.3)
    assert server.hidden_for(ANONYMOUS) == frozenset({"secret"})
    server.close()
    cli.close()
