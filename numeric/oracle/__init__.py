"""numeric.oracle (package docstring to be written with the layout)."""
