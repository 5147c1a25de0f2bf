"""The HTTP API: paste factories for the composite applications."""
import paste.urlmap


def root_app_factory(loader, global_conf, **local_conf):
    """Dispatch by path prefix (`/`, `/v1`, `/v2`, `/healthcheck`)."""
    return paste.urlmap.urlmap_factory(loader, global_conf, **local_conf)
