"""Compliance: evidence that the records are intact and controls were followed."""
