"""Models of jutaku.registry."""
