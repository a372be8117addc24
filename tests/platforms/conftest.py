from tests.fakes.fixtures import bluesky_fake, mastodon_fake, threads_fake

__all__ = ["bluesky_fake", "mastodon_fake", "threads_fake"]
