"""Self-tests of the conformance runner: the verdict, the oracle, the strategies, the report."""
