"""Fixtures of the unit tests (the shared ones: tests/conftest.py)."""
import os

import pytest

from glance import store
from glance.common import config
from glance.common.config import CONF
from glance.store import registry


@pytest.fixture
def stored_files(tmp_path):
    """stored_files() -> names of the image files in the filesystem store."""
    def names():
        datadir = tmp_path / 'state' / 'images'
        return sorted(os.listdir(datadir)) if datadir.exists() else []
    return names


@pytest.fixture
def clean_config():
    """The defaults of every option (no configuration file), before the
    test and after it: a configuration parsed by another test (the
    multi-store mode, say) neither reaches this one nor outlives it."""
    def parse_none():
        CONF.reset()
        config.parse_args([], default_config_files=[])
    parse_none()
    yield
    parse_none()


@pytest.fixture
def set_option():
    """Set [glance_store] options for one test; they are cleared after."""
    names = []

    def set_store_option(name, value):
        CONF.set_override(name, value, group='glance_store')
        names.append(name)

    yield set_store_option
    for name in names:
        CONF.clear_override(name, group='glance_store')


@pytest.fixture
def isolated_registry(monkeypatch):
    """Give each test an empty registry and restore the previous one."""
    monkeypatch.setattr(store, '_registry', registry.Registry())


@pytest.fixture
def datadir(tmp_path, set_option):
    # Two missing levels: create_stores() must create the parents too.
    path = tmp_path / 'state' / 'images'
    set_option('filesystem_store_datadir', str(path))
    return path


@pytest.fixture
def stores(datadir):
    store.create_stores()
    return datadir
