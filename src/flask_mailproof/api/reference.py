"""Render the OpenAPI document as a Markdown reference page (``docs/api.md``)."""

from __future__ import annotations

import json
import typing as t

import click
from flask.cli import with_appcontext

from .blueprint import api_document


def _schema_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _body_schema(content: dict[str, t.Any] | None) -> str:
    if not content:
        return "-"
    schema = content.get("application/json", {}).get("schema", {})
    return f"`{_schema_name(schema['$ref'])}`" if "$ref" in schema else "-"


def render_markdown(document: dict[str, t.Any]) -> str:
    """Return the reference page for ``document``: endpoints, then every schema."""
    lines = [
        f"# {document['info']['title']} reference",
        "",
        "Generated from `/api/openapi.json` by `flask mailproof api-reference`; do not edit.",
        "",
        document["info"].get("description", ""),
        "",
        "## Endpoints",
        "",
    ]
    for path, operations in sorted(document["paths"].items()):
        for method, operation in sorted(operations.items()):
            lines += [f"### `{method.upper()} {path}`", "", operation.get("summary", ""), ""]
            if operation.get("description"):
                lines += [operation["description"].strip(), ""]
            lines.append(
                f"Request body: {_body_schema(operation.get('requestBody', {}).get('content'))}"
            )
            lines += ["", "| status | body |", "| --- | --- |"]
            for status, response in sorted(operation["responses"].items()):
                lines.append(f"| {status} | {_body_schema(response.get('content'))} |")
            lines.append("")
    lines += ["## Schemas", ""]
    for name, schema in sorted(document.get("components", {}).get("schemas", {}).items()):
        lines += [
            f"### `{name}`",
            "",
            "```json",
            json.dumps(schema, indent=2, sort_keys=True),
            "```",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


@click.command("api-reference")
@click.option("--format", "output", type=click.Choice(["markdown", "json"]), default="markdown")
@with_appcontext
def api_reference_command(output: str) -> None:
    """Print the API's OpenAPI document, or its Markdown reference page."""
    document = api_document()
    click.echo(
        render_markdown(document) if output == "markdown" else json.dumps(document, indent=2),
        nl=False,
    )
