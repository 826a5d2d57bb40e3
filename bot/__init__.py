"""wgbot core: platform-independent domain, services, grammar and rendering to neutral replies."""

__version__ = "0.1.0"
