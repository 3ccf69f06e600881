"""numeric.claims (package docstring to be written with the layout)."""
