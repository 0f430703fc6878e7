"""The `/__admin` blueprint, its OpenAPI document, the session export and the dashboard."""
