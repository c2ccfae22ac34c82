"""The peer environment of the pricing benchmark (built on demand, see ``build_env``)."""
