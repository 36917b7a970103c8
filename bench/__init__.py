"""The benchmark harness (not part of the service or its tests). See bench/README.md."""
