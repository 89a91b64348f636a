"""One trained and promoted model for every serving test (training takes a few seconds)."""

from __future__ import annotations

import pytest

from governance_pipelines_tests.serving.gateway_fixtures import Served, train_and_serve


@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    return train_and_serve(tmp_path_factory.mktemp("gateway"))
