"""Models of jutaku.exchange."""
