"""Plain helpers the tests share: no fixtures and no tests here.

Fixtures live in the conftest.py files; a test module imports helpers from this package,
never from a conftest or another test module.
"""
