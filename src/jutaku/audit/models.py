"""Models of jutaku.audit."""
