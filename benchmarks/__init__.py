"""convspec's own benchmarks: mutation testing of the suites and speed measurements."""
