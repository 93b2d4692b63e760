"""Atom/XML, Exact's default representation when a request does not ask for JSON.

A client that forgets `Accept: application/json` gets XML from Exact (its «OData | Query
string options» notes), so the sandbox answers it the same way instead of being lenient.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from woo_exact_pipeline.sandbox.exact import model
from woo_exact_pipeline.sandbox.exact.odata import Kind

_NAMESPACES = (
    'xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
)
_SCHEME = "http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"
_RELATED = "http://schemas.microsoft.com/ado/2007/08/dataservices/related/"
_DATE = re.compile(r"^/Date\((-?\d+)\)/$")
_TYPES = {
    entity_type.model_type: entity_type
    for entity_type in vars(model).values()
    if isinstance(entity_type, model.EntityType)
}


def wants_json(accept: str | None) -> bool:
    return accept is not None and "json" in accept.lower()


def to_atom(body: dict[str, Any], updated: datetime) -> str:
    stamp = updated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if "error" in body:
        message = body["error"]["message"]["value"]
        return (
            '<?xml version="1.0" encoding="utf-8"?><m:error xmlns:m="http://schemas.microsoft.com'
            f'/ado/2007/08/dataservices/metadata"><m:code></m:code>'
            f'<m:message xml:lang="en-US">{escape(message)}</m:message></m:error>'
        )
    data = body["d"]
    if "results" not in data:
        return f'<?xml version="1.0" encoding="utf-8"?>{_entry(data, stamp, root=True)}'
    parts = [f'<?xml version="1.0" encoding="utf-8"?><feed {_NAMESPACES}>']
    parts.append(f'<title type="text"></title><updated>{stamp}</updated>')
    if "__count" in data:
        parts.append(f"<m:count>{escape(data['__count'])}</m:count>")
    parts.extend(_entry(record, stamp) for record in data["results"])
    if "__next" in data:
        parts.append(f'<link rel="next" href={quoteattr(data["__next"])} />')
    parts.append("</feed>")
    return "".join(parts)


def _entry(record: dict[str, Any], stamp: str, *, root: bool = False) -> str:
    metadata = record.get("__metadata", {})
    entity_type = _TYPES.get(metadata.get("type", ""))
    links: list[str] = []
    properties: list[str] = []
    for name, value in record.items():
        if name == "__metadata":
            continue
        if isinstance(value, dict) and "__deferred" in value:
            href = quoteattr(value["__deferred"]["uri"])
            links.append(f'<link rel="{_RELATED}{name}" title="{name}" href={href} />')
        elif isinstance(value, dict) and "results" in value:
            inline = "".join(_entry(line, stamp) for line in value["results"])
            links.append(
                f'<link rel="{_RELATED}{name}" title="{name}"><m:inline><feed>{inline}'
                "</feed></m:inline></link>"
            )
        else:
            properties.append(_property(name, value, entity_type))
    namespaces = f" {_NAMESPACES}" if root else ""
    return (
        f"<entry{namespaces}><id>{escape(metadata.get('uri', ''))}</id><updated>{stamp}</updated>"
        f'<category term="{escape(metadata.get("type", ""))}" scheme="{_SCHEME}" />'
        f'{"".join(links)}<content type="application/xml"><m:properties>'
        f"{''.join(properties)}</m:properties></content></entry>"
    )


def _property(name: str, value: Any, entity_type: model.EntityType | None) -> str:
    definition = entity_type.by_name.get(name) if entity_type else None
    kind = definition.kind if definition else Kind.STRING
    typed = "" if kind == Kind.STRING else f' m:type="{kind}"'
    if value is None:
        return f'<d:{name}{typed} m:null="true" />'
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str) and (date := _DATE.match(value)):
        moment = datetime.fromtimestamp(int(date.group(1)) / 1000, UTC)
        text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    else:
        text = str(value)
    return f"<d:{name}{typed}>{escape(text)}</d:{name}>"
