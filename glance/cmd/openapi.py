"""glance-openapi: print the OpenAPI 3.1 document of the Image API.

    glance-openapi [--config-file FILE]

The document describes what glance-api serves with that configuration
(the same files as glance-api reads, found the same way): the enabled
APIs, the disk and container formats. See glance.api.openapi.
"""
import json
import sys

from glance.api import openapi
from glance.common import config
import glance.opts  # noqa: F401 (every option registered)


def main(args=None):
    config.parse_args(args=args, prog='glance-api')
    json.dump(openapi.document(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write('\n')
