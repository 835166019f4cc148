"""Application fixtures (issue 4)."""
