"""What several test modules share that is not a fixture: the gallery digits, image files, the
command lines, the page helpers. Fixtures are in conftest.py (tests/, tests/page/)."""
