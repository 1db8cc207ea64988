"""Streamlit Components v2 elements of the app, each a package with its manifest (pyproject.toml) and assets."""
