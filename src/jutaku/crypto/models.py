"""Models of jutaku.crypto."""
