"""The control surface for tests: `/__admin` views, the request journal, faults, rate limit, OpenAPI."""
