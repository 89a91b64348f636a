"""Timestamps as the store writes and reads them: always timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; every stored timestamp is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    """A timestamp as audit payloads and JSON listings carry it (UTC, microseconds)."""
    return None if value is None else _utc(value).isoformat(timespec="microseconds")


def _stamp(value: datetime | None) -> datetime | None:
    """A nullable stored timestamp (deleted, revoked), as `_utc` reads it."""
    return None if value is None else _utc(value)
