"""Entry point for gunicorn: `gunicorn wsgi:app`."""
import gc

from portal import create_app

app = create_app()
# What the application loaded at start-up lives as long as the worker: kept out of the garbage collector's
# full passes, which otherwise stall the largest pages (see benchmarks/README.md, "Note for deployment").
gc.collect()
gc.freeze()
