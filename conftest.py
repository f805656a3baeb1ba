"""Root conftest: loads the conformance suite's fixture modules (fixtures/README.md)."""

pytest_plugins = [
    "fixtures.session",
    "fixtures.http",
    "fixtures.tokens",
    "fixtures.forge",
    "fixtures.timing",
    "fixtures.evidence",
    "fixtures.issuer_control",
    "pytester",  # tests/suite_machinery run small suites with pytest's own pytester
]
