"""Issued documents: the download of a stored PDF, and the `flask documents ...` commands.

The mechanism itself (rendering, signing, storing, verifying) is `portal.core.documents`.
"""
from flask import Blueprint

bp = Blueprint("documents", __name__)

from portal.documents import cli, views  # noqa: E402,F401
