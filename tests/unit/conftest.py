"""Fixtures of the unit tests (the shared ones: tests/conftest.py)."""
import os

import pytest


@pytest.fixture
def stored_files(tmp_path):
    """stored_files() -> names of the image files in the filesystem store."""
    def names():
        datadir = tmp_path / 'state' / 'images'
        return sorted(os.listdir(datadir)) if datadir.exists() else []
    return names
