"""Background jobs. Each job calls services; none reuses view code. Importing this package declares them."""
from elearn.jobs import analytics, media, search, study  # noqa: F401
