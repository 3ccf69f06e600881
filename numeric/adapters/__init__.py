"""numeric.adapters (package docstring to be written with the layout)."""
