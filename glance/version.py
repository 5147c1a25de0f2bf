"""The version this package reports (glance-api --version, the User-Agent of stores)."""
from importlib import metadata

try:
    version_string = metadata.version('glance')
except metadata.PackageNotFoundError:  # running from a source tree without install
    version_string = '0.0.0'
