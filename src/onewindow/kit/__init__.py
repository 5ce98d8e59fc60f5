"""The kit: what every domain needs and that knows no domain (docs/architecture.md)."""
