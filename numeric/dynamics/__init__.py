"""numeric.dynamics (package docstring to be written with the layout)."""
