"""Many users at once: four stylizing continuously while a fifth trains, against ``python app.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


@pytest.mark.slow  # about half a minute of load
def test_four_users_stylize_while_one_trains(studio_server: object) -> None:
    from load_test import run_load

    server = studio_server
    # 15 s of load, then the training is stopped (on 2 cores it gets few iterations while four users stylize)
    result = run_load(server.url, users=4, iterations=50, rss=server.rss_mb, seconds=15)  # type: ignore[attr-defined]
    first, last = result.rss_quarters()
    print(f"\nload: {result.requests} requests, {len(result.errors)} errors, training {result.train_seconds:.0f} s, "
          f"memory peak {first:.0f} -> {last:.0f} MB")  # fmt: skip
    assert result.errors == []
    assert result.train_status.startswith("Training stopped at iteration"), result.train_status
    assert result.requests >= 8  # every user was served during the training, more than once
    assert max(m for _, m in result.rss_mb) < 4000  # bounded (longer runs: bench/load_test.py --pid)
    assert server.alive()  # type: ignore[attr-defined]
