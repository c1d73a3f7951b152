"""The bare Flask application that the inbox is compared with (`benchmarks.server`): one route, no database,
served by the same gunicorn settings. Issue 15's goal: the inbox at least 10 % of its rate."""
from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
@app.get("/")
def hello():
    return "hello"
