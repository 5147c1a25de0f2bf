"""Command-line entry points.

Importing this package makes the standard library cooperative with
eventlet, before anything else is imported: a module that took
socket.socket or threading.Lock at import time would keep the blocking
versions. sqlite3 calls and reads and writes of regular files stay
blocking; eventlet cannot make them green.
"""
import warnings

# Serving with eventlet is a deliberate choice of this project; its
# import-time deprecation notice would otherwise open every log.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

import eventlet  # noqa: E402 (the filter must come first)

# socket: the server and the HTTP and database clients; select and time:
# waits that must let other requests run; thread: locks (the database
# connection pool, say) that would otherwise stall the whole process.
# os is left alone: the server does its own waiting on pipes and children.
eventlet.patcher.monkey_patch(socket=True, select=True, time=True, thread=True)
