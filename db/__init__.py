"""tsquant database tooling: embedded cluster, connection settings, migration runner."""
