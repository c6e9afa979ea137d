"""Side-by-side benchmarks of edgetorch against its peers (see README.md)."""
