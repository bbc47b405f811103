"""Use cases over the store and the core: register, search, seed; each takes a store (units of work) and a clock."""
