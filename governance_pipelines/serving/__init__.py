"""The serving gateway: endpoints that call governed model versions, with every request
authenticated, validated against the model's declared schema and written to the inference
log."""
