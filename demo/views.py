"""The demo's own pages; every account page comes from the extension."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

site = Blueprint("demo", __name__)


@site.route("/")
def index() -> str:
    return render_template("index.html")


@site.route("/favicon.ico")
def favicon() -> Response:
    """Send clients that ask for the icon by its old name (feed readers, bookmarks) to the SVG.

    Pages link the SVG; without this answer each such request was a 404 in the log.
    """
    return redirect(url_for("static", filename="favicon.svg"), code=301)
