"""Background jobs. Each job calls services; none reuses view code."""
