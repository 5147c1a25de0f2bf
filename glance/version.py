"""The version this package reports (glance-api --version, store clients)."""
from importlib import metadata

try:
    version_string = metadata.version('glance')
except metadata.PackageNotFoundError:  # a source tree, not installed
    version_string = '0.0.0'
