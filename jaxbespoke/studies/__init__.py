"""Studies beyond the original's figures (embedding strategies, attention cost, the sparse
attention report): what their command lines run, importable by tests and benchmarks."""
