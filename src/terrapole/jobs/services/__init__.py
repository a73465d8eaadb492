"""The on-demand services, one module each."""
