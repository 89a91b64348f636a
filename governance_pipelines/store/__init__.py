"""The governance store: versioned SQL schema, immutable records and the audit chain."""

from governance_pipelines.store.repository import (
    GovernanceStore,
    ImmutableRecordError,
    StoreError,
    UnknownRecordError,
)

__all__ = ["GovernanceStore", "ImmutableRecordError", "StoreError", "UnknownRecordError"]
