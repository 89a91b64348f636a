"""The governance store's exceptions; every message says what went wrong and what to do."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot complete an operation; the message says why and what to do."""


class ImmutableRecordError(StoreError):
    """Someone tried to change or delete a record that is immutable by design."""


class UnknownRecordError(StoreError):
    """A snapshot, model or version that the store has never seen."""


class RecordIntegrityError(StoreError):
    """A record failed verification (its audit binding or its file's digest): not trusted."""
