"""The store drivers, one module each."""
