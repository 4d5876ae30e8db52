"""Registers the 'ray' marker of the batch tests (select them with -m ray, skip with -m 'not ray')."""


def pytest_configure(config):
    config.addinivalue_line("markers", "ray: starts a local Ray instance (batch --engine ray)")
