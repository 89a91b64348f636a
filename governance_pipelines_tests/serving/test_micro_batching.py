"""Concurrent requests share one model call; each still gets exactly its own predictions."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from governance_pipelines.serving.micro_batching import MicroBatcher


class _Model:
    """A fitted scikit-learn model; records how many rows each call scored."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(200, 2))
        self.fitted = LogisticRegression().fit(x, (x[:, 0] + x[:, 1] > 0).astype(int))
        self.calls: list[int] = []

    def score(self, records: Sequence[Mapping[str, Any]]) -> list[float]:
        if any(r.get("poison") for r in records):
            raise ValueError("cannot score a poisoned record")
        self.calls.append(len(records))
        frame = pd.DataFrame([[r["a"], r["b"]] for r in records])
        return [float(p) for p in self.fitted.predict_proba(frame.to_numpy())[:, 1]]


def _requests(count: int) -> list[list[dict[str, Any]]]:
    return [[{"a": i / 10, "b": -i / 20}] * (1 + i % 3) for i in range(count)]


async def _concurrently(batcher: MicroBatcher, requests: list[list[dict[str, Any]]]) -> list[Any]:
    return await asyncio.gather(*(batcher.score(r) for r in requests), return_exceptions=True)


def test_concurrent_requests_share_calls_and_get_their_own_predictions() -> None:
    model = _Model()
    requests = _requests(12)
    alone = [model.score(r) for r in requests]
    model.calls.clear()
    batched = asyncio.run(_concurrently(MicroBatcher(model.score), requests))
    assert batched == [pytest.approx(a) for a in alone]
    assert len(model.calls) < len(requests)  # fewer model calls than requests
    assert sum(model.calls) == sum(len(r) for r in requests)


def test_a_lone_request_is_scored_at_once() -> None:
    model = _Model()
    batcher = MicroBatcher(model.score)
    assert asyncio.run(batcher.score([{"a": 1.0, "b": 1.0}])) == pytest.approx(
        model.score([{"a": 1.0, "b": 1.0}])
    )
    assert batcher.calls == 1


def test_a_failing_request_fails_alone() -> None:
    model = _Model()
    requests = _requests(5)
    requests[2] = [{"a": 0.0, "b": 0.0, "poison": True}]
    answers = asyncio.run(_concurrently(MicroBatcher(model.score), requests))
    assert isinstance(answers[2], ValueError)
    assert "poisoned" in str(answers[2])
    assert [len(a) for i, a in enumerate(answers) if i != 2] == [1, 2, 1, 2]


def test_a_call_never_exceeds_max_rows_and_never_splits_a_request() -> None:
    model = _Model()
    requests = _requests(30)
    answers = asyncio.run(_concurrently(MicroBatcher(model.score, max_rows=5), requests))
    assert [len(a) for a in answers] == [len(r) for r in requests]
    assert max(model.calls) <= 5


def test_a_model_answering_the_wrong_number_of_rows_is_an_error() -> None:
    batcher = MicroBatcher(lambda records: [0.5])
    with pytest.raises(ValueError, match="1 predictions for 2 rows"):
        asyncio.run(batcher.score([{"a": 1}, {"a": 2}]))
