"""Models of jutaku.accounts."""
