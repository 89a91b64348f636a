"""Loading a model's training data from where `governance.yaml` says it lives."""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from governance_pipelines.config import DataSource, FileSource, PythonSource, SqlSource, expand_env
from governance_pipelines.store.engine import display_url


class DataSourceError(Exception):
    """The training data could not be loaded; the message names the source and the fix."""


def describe_source(source: DataSource) -> dict[str, str]:
    """A JSON-able description for snapshot records (never includes secrets from env vars)."""
    if isinstance(source, SqlSource):
        return {"kind": "sql", "url": _redacted(source.url), "query": source.query}
    if isinstance(source, FileSource):
        return {"kind": "file", "path": source.path}
    return {"kind": "python", "callable": source.callable}


def load_training_data(source: DataSource) -> pd.DataFrame:
    if isinstance(source, SqlSource):
        frame = _load_sql(source)
    elif isinstance(source, FileSource):
        frame = _load_file(source)
    else:
        frame = _load_python(source)
    if not isinstance(frame, pd.DataFrame):
        raise DataSourceError(
            f"{describe_source(source)} returned {type(frame).__name__}, expected a pandas DataFrame"
        )
    if frame.empty:
        raise DataSourceError(f"{describe_source(source)} returned no rows; check the source")
    return frame


def _load_sql(source: SqlSource) -> pd.DataFrame:
    url = expand_env(source.url)
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ModuleNotFoundError) as error:
        raise DataSourceError(
            f"data.source.url {_redacted(source.url)!r} is not usable: {error}"
        ) from None
    try:
        with engine.connect() as connection:
            return pd.read_sql_query(sa.text(source.query), connection)
    except sa.exc.SQLAlchemyError as error:
        detail = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise DataSourceError(
            f"the training query failed on {_redacted(source.url)}: {detail}; "
            "check data.source.query and that the database is reachable"
        ) from None
    finally:
        engine.dispose()


def _load_file(source: FileSource) -> pd.DataFrame:
    path = Path(expand_env(source.path))
    fmt = source.format or path.suffix.lower().lstrip(".")
    if not path.exists():
        raise DataSourceError(f"training data file {path} does not exist; check data.source.path")
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        if fmt == "csv":
            return pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise DataSourceError(f"cannot read training data file {path} as {fmt}: {error}") from None
    raise DataSourceError(
        f"training data file {path} has an unknown format {fmt!r}; use .parquet or .csv, "
        "or set data.source.format"
    )


def _load_python(source: PythonSource) -> pd.DataFrame:
    module_name, function_name = source.callable.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise DataSourceError(
            f"cannot import {module_name!r} for data.source.callable: {error}"
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise DataSourceError(f"{module_name} has no callable named {function_name!r}")
    return function(**source.kwargs)


def _redacted(url: str) -> str:
    return display_url(url)
