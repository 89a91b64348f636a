"""An ML governance control plane built on Dagster."""
