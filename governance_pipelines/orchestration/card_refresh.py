"""Cards follow governance: an approval, a rejection or a stage change re-renders the card.

A card rendered before its version was approved says "No approval decisions recorded"; left
alone, the production card would stay that way. This sensor reads the audit chain with a
cursor (exactly once, in order) and asks for the card of each version a decision touched,
naming that version in a run tag, so an approval of an older version refreshes that
version's card rather than the newest one.
"""

import dagster as dg

from governance_pipelines.config import GovernanceConfig
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.resources import GovernanceStoreResource

CARD_REFRESH_SENSOR = "model_card_refresh_sensor"
CARD_VERSION_TAG = "governance/card_version"
DECISION_ACTIONS = (
    "approval.recorded",
    "approval.rejected",
    "model_version.promoted",
    "model_version.archived",
)


def build_card_refresh_sensor(config: GovernanceConfig) -> dg.SensorDefinition:
    declared = {model.name for model in config.models}
    cards = [naming.model_asset_key(name, naming.MODEL_CARD) for name in sorted(declared)]

    @dg.sensor(
        name=CARD_REFRESH_SENSOR,
        asset_selection=dg.AssetSelection.assets(*cards),
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Re-renders a model card when its version is approved, rejected, promoted "
        "or archived, so a card never lags the decisions taken on it.",
    )
    def model_card_refresh_sensor(
        context: dg.SensorEvaluationContext, governance_store: GovernanceStoreResource
    ) -> dg.SensorResult | dg.SkipReason:
        cursor = int(context.cursor or 0)
        events = governance_store.store.events_after(cursor, DECISION_ACTIONS)
        if not events:
            nothing = f"no approval or stage change after audit event #{cursor}"
            context.log.info(nothing)
            return dg.SkipReason(nothing)
        touched = {
            (event.model_name, event.version): event.seq
            for event in events
            if event.model_name in declared and event.version is not None
        }
        requests = [
            dg.RunRequest(
                run_key=f"card:{model}:v{version}:{seq}",
                asset_selection=[naming.model_asset_key(model, naming.MODEL_CARD)],
                tags={CARD_VERSION_TAG: str(version), "governance/model": model},
            )
            for (model, version), seq in sorted(touched.items(), key=lambda item: item[1])
            if model is not None
        ]
        cards_named = ", ".join(f"{model} v{version}" for model, version in touched) or "none"
        context.log.info(f"{len(events)} decision(s) since #{cursor}: refreshing {cards_named}")
        return dg.SensorResult(run_requests=requests, cursor=str(events[-1].seq))

    return model_card_refresh_sensor
