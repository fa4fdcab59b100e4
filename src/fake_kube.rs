//! A fake Kubernetes API server for tests and benchmarks (being written).
