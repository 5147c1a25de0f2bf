"""gunicorn entry point of the test Keystone (tests/functional/keystone.py).

Keystone's WSGI application parses sys.argv with oslo.config, which would
choke on gunicorn's options: hide them before importing it. The
configuration comes from OS_KEYSTONE_CONFIG_DIR. This directory holds only
this module, so that putting it on sys.path (gunicorn --pythonpath) cannot
shadow the `keystone` package with tests/functional/keystone.py.
"""
import sys

sys.argv = sys.argv[:1]
from keystone.wsgi.api import application  # noqa: E402,F401
