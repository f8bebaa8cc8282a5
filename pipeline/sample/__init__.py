"""Built-in sample corpus: the build (``build.py`` and its modules) and the generated data."""
