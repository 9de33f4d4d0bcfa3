#!/usr/bin/python3
"""Checks admin API answers against the OpenAPI document the appliance served.

Run by tests/openapi.rs with Debian's python3 and its python3-jsonschema (installed by
tests/run): a JSON Schema implementation independent of the appliance's own (serde, utoipa).

    check_openapi.py DOCUMENT < ANSWERS

DOCUMENT is the served /api/v1/openapi.json (OpenAPI 3.1, whose schemas are JSON Schema
2020-12). ANSWERS is a JSON list of answers, each
{"method": "GET", "path": "/api/v1/receipts/{seq}", "status": 200,
 "content_type": "application/json", "body": "<text>"}, with `path` the document's template.

For each answer: the document must describe its route and list its status; the body must be
JSON of a media type the document gives for that status, and valid against that schema, every
`#/components/...` reference resolved against the whole document (a body of another media type
the document gives, such as a gzipped archive, is accepted as it is). Objects are checked closed
(no property the document does not describe), so a field the server renamed or added fails
too. Every component schema must itself be a valid JSON Schema 2020-12.

Prints one line per disagreement and exits 1 if there is any; prints how many answers were
checked and exits 0 otherwise.
"""

import copy
import json
import sys

import jsonschema

MEDIA = "application/json"


def closed(schema):
    """The document with every object schema that lists properties closed to others."""
    if isinstance(schema, dict):
        out = {key: closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    return schema


def pointer(*parts):
    """A JSON pointer fragment to these keys (RFC 6901 escaping)."""
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def check(document, strict, answer):
    """The disagreements of one answer with the document."""
    method = answer["method"].lower()
    where = f'{answer["method"]} {answer["path"]} answered {answer["status"]}'
    operation = document.get("paths", {}).get(answer["path"], {}).get(method)
    if operation is None:
        return [f"{where}: the document does not describe this route"]
    status = str(answer["status"])
    response = operation.get("responses", {}).get(status)
    if response is None:
        listed = ", ".join(sorted(operation.get("responses", {})))
        return [f"{where}: the document lists only {listed}"]
    content = response.get("content", {})
    media = answer["content_type"].split(";")[0].strip()
    if media != MEDIA and media in content:
        # A body that is not JSON (a snapshot's archive) has the media type the document
        # gives; its bytes are not JSON Schema's to check.
        return []
    if MEDIA not in content:
        return [f"{where}: the document gives no {MEDIA} body for it"]
    if not answer["content_type"].startswith(MEDIA):
        return [f'{where}: the body is {answer["content_type"]!r}, not {MEDIA}']
    try:
        body = json.loads(answer["body"])
    except ValueError as error:
        return [f"{where}: the body is not JSON ({error}): {answer['body'][:200]!r}"]
    # The whole (closed) document is the root schema, so its `#/components/...` references
    # resolve; `$ref` picks this response's schema out of it. The document's other keys are
    # not JSON Schema keywords and are ignored.
    root = dict(strict)
    root["$ref"] = pointer("paths", answer["path"], method, "responses", status, "content",
                           MEDIA, "schema")
    validator = jsonschema.Draft202012Validator(root)
    return [
        f"{where}: at {'/'.join(map(str, error.absolute_path)) or 'the top'}: {error.message}"
        for error in validator.iter_errors(body)
    ]


def main():
    with open(sys.argv[1], encoding="utf-8") as file:
        document = json.load(file)
    answers = json.load(sys.stdin)
    problems = []
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as error:
            problems.append(f"components/schemas/{name} is not a valid schema: {error.message}")
    strict = closed(copy.deepcopy(document))
    for answer in answers:
        problems.extend(check(document, strict, answer))
    for problem in problems:
        print(problem)
    if problems:
        sys.exit(1)
    print(f"{len(answers)} answers agree with the document")


if __name__ == "__main__":
    main()
