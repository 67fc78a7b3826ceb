"""Development tools: benchmarks (`make bench`), demo data (`make demo`), the load test (`make load`) and the
raw-engine baseline the engine benchmark compares against. The application (app/) never imports this package."""
