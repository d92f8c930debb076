"""The write paths behind the API: the async journal's gate and the worker that drains it."""
