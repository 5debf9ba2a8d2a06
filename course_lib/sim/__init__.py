"""The shared simulation layer: worlds with a known truth, true click models and serving loops,
used by every lesson that needs users, items and feedback."""
