"""pytest plugin (registered by entry point): `emma_mock_server` and `emma_mock` fixtures."""
