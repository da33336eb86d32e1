"""Measurement: turn a drill's timeline, op history and read-back into RTO, RPO and verdicts."""
