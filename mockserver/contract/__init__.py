"""The mock held to the real API: `emma-mock capture` (a fixture from a real account) and
`emma-mock verify` (one scenario against the real API and a mock seeded from it, compared).

Only this package talks to the real API, through `client.ApiClient`: the keys live there and
nowhere else, and every message it makes has them removed.
"""
