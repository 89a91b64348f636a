"""Training data from SQL, files and Python callables, with errors that name the source."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from governance_pipelines.config import FileSource, PythonSource, SqlSource
from governance_pipelines.development.data_sources import (
    DataSourceError,
    describe_source,
    load_training_data,
)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})


def test_sql_source_with_env_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "warehouse.db"
    engine = sa.create_engine(f"sqlite:///{database}")
    _frame().to_sql("applications", engine, index=False)
    engine.dispose()
    monkeypatch.setenv("WAREHOUSE_URL", f"sqlite:///{database}")
    source = SqlSource(
        kind="sql", url="${WAREHOUSE_URL}", query="SELECT x, y FROM applications WHERE x > 1"
    )
    assert load_training_data(source)["x"].tolist() == [2.0, 3.0]


def test_sql_errors_name_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad_query = SqlSource(
        kind="sql", url=f"sqlite:///{tmp_path / 'e.db'}", query="SELECT * FROM missing"
    )
    with pytest.raises(DataSourceError, match=r"the training query failed.*no such table"):
        load_training_data(bad_query)
    unset = SqlSource(kind="sql", url="${NOT_SET_ANYWHERE}", query="SELECT 1")
    with pytest.raises(Exception, match=r"\$\{NOT_SET_ANYWHERE\} is referenced"):
        load_training_data(unset)


def test_sql_description_hides_passwords() -> None:
    source = SqlSource(kind="sql", url="postgresql://u:secret@db/x", query="SELECT 1")
    assert "secret" not in str(describe_source(source))


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_file_sources(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"train.{suffix}"
    getattr(_frame(), f"to_{suffix}")(path, index=False)
    pd.testing.assert_frame_equal(
        load_training_data(FileSource(kind="file", path=str(path))), _frame()
    )


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="does not exist"):
        load_training_data(FileSource(kind="file", path=str(tmp_path / "nope.csv")))
    odd = tmp_path / "train.xlsx"
    odd.write_text("x")
    with pytest.raises(DataSourceError, match="unknown format 'xlsx'"):
        load_training_data(FileSource(kind="file", path=str(odd)))
    empty = tmp_path / "empty.csv"
    empty.write_text("x,y\n")
    with pytest.raises(DataSourceError, match="returned no rows"):
        load_training_data(FileSource(kind="file", path=str(empty)))


def test_python_sources() -> None:
    frame = load_training_data(
        PythonSource(
            kind="python",
            callable="governance_pipelines.examples.credit:load_credit_applications",
            kwargs={"n_rows": 50},
        )
    )
    assert len(frame) == 50
    with pytest.raises(DataSourceError, match="cannot import"):
        load_training_data(PythonSource(kind="python", callable="no_such_module:f"))
    with pytest.raises(DataSourceError, match="no callable named 'nope'"):
        load_training_data(
            PythonSource(kind="python", callable="governance_pipelines.examples.credit:nope")
        )
    with pytest.raises(DataSourceError, match="expected a pandas DataFrame"):
        load_training_data(PythonSource(kind="python", callable="builtins:dict"))
