"""Tasks: their records (glance.tasks.records) and the executor that
runs their work inside the serving process (glance.tasks.executor)."""
