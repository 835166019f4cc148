"""A small host application written from docs/integration-guide.md alone (issue 10)."""
