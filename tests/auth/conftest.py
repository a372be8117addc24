from tests.fakes.fixtures import bluesky_fake

__all__ = ["bluesky_fake"]
