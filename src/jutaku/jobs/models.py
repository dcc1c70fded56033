"""Models of jutaku.jobs."""
