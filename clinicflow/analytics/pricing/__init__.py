"""Price elasticity and channel response curves, fitted on a clinic's own history (issue #18)."""
