"""What the per-model factories share: who owns a model's assets, how they are tagged, and
the version a gate, card or reference profile reviews.

Kept in one place so that a factory never imports another factory for a helper, and so the
UI shows the same owners and tags on every asset of a model.
"""

from governance_pipelines.config import GovernanceConfig, ModelConfig
from governance_pipelines.development.model_versions import read_artifact, restore_trained_model
from governance_pipelines.development.snapshot import read_snapshot
from governance_pipelines.development.version_checks import VersionUnderReview
from governance_pipelines.store import GovernanceStore


def model_owners(config: GovernanceConfig, model: ModelConfig) -> list[str]:
    """The owner's e-mail (when the people directory has one) and the owning team."""
    owner = config.person(model.owner)
    owners = [f"team:{model.team}"]
    if owner is not None and owner.email:
        owners.insert(0, owner.email)
    return owners


def model_tags(model: ModelConfig) -> dict[str, str]:
    """Tags that let the UI filter every asset, check and run by model and team."""
    return {"governance/model": model.name, "governance/team": model.team}


def review_version(store: GovernanceStore, model: ModelConfig, version: int) -> VersionUnderReview:
    """A registered version restored with the exact snapshot it was trained on."""
    registered = store.get_model_version(model.name, version)
    snapshot = store.get_snapshot(registered.snapshot_id, model.name)
    frame = read_snapshot(snapshot.path, snapshot.snapshot_id)
    trained = restore_trained_model(
        frame, registered.record, read_artifact(registered.artifact_path)
    )
    return VersionUnderReview(model=model, frame=frame, trained=trained)
