"""Public disclosure (公示): per-street aggregates, survey scores and follow-up items for everyone."""
