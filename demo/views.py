"""The demo's own pages; every account page comes from the extension."""

from __future__ import annotations

from flask import Blueprint, render_template

site = Blueprint("demo", __name__)


@site.route("/")
def index() -> str:
    return render_template("index.html")
