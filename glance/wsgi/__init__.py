"""WSGI applications for servers such as uwsgi, gunicorn or mod_wsgi."""
