"""The mock's state, no HTTP: the Mock (store, clock and controls), the journal, faults, rate limit, session."""
