#!/usr/bin/env python3
"""Fills fuzz/corpus/<target>/ with seeds taken from the project's own test vectors
(tests/data), so that a fresh clone can seed every fuzz target. Python 3, standard library
only. Run from anywhere: `python3 fuzz/seed.py`. Existing corpus files are kept."""

import base64
import hashlib
import json
import pathlib
import re
import struct

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
DATA = ROOT / "tests" / "data"


def load(rel):
    with open(DATA / rel, encoding="utf-8") as f:
        return json.load(f)


def text_of(schema):
    """A schema as the registry receives it: a string is the text, anything else is JSON."""
    return schema if isinstance(schema, str) else json.dumps(schema)


counts = {}


def put(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    d = FUZZ / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    path = d / hashlib.sha1(data).hexdigest()
    if not path.exists():
        path.write_bytes(data)
        counts[target] = counts.get(target, 0) + 1


# Schemas of each type from the compatibility vectors and the conformance scenarios.
for case in load("avro/avro-compatibility-cases.json"):
    for key in ("old", "new"):
        put("avro_schema", text_of(case[key]))
for case in load("avro/compatibility-test-data.json")["tests"]:
    for key in ("original", "updated"):
        if key in case:
            put("avro_schema", text_of(case[key]))
for case in load("avro/confluent-7.9.0-avro-cases.json"):
    if "schema" in case:
        put("avro_schema", text_of(case["schema"]))
for case in load("jsonschema/compatibility-test-data.json")["tests"]:
    for key in ("original", "updated"):
        if key in case:
            put("json_schema", text_of(case[key]))
for case in load("protobuf/protobuf-compatibility-cases.json"):
    for key in ("old", "new"):
        put("protobuf_text", text_of(case[key]))

BY_TYPE = {"AVRO": "avro_schema", "JSON": "json_schema", "PROTOBUF": "protobuf_text"}
scenarios = load("conformance/scenarios.json")
for scenario in scenarios:
    for step in scenario["steps"] + scenario.get("teardown", []):
        body = step.get("b")
        if isinstance(body, dict) and isinstance(body.get("schema"), str):
            kind = body.get("schemaType", "AVRO")
            target = BY_TYPE.get(kind.upper() if isinstance(kind, str) else "AVRO", "avro_schema")
            put(target, body["schema"])
        # Request bodies: the first line is the Content-Type (see request_body.rs).
        if step.get("m") in ("POST", "PUT"):
            raw = step["raw"].encode("utf-8") if "raw" in step else json.dumps(body).encode("utf-8")
            ct = step.get("ct", "application/vnd.schemaregistry.v1+json").encode("utf-8")
            put("request_body", ct + b"\n" + raw)
            if len(raw) < 60:
                # The encodings Jackson detects: UTF-16 and UTF-32, with and without a BOM.
                text = raw.decode("utf-8")
                put("request_body", b"\n" + b"\xfe\xff" + text.encode("utf-16-be"))
                put("request_body", b"\n" + text.encode("utf-16-le"))
                put("request_body", b"\n" + text.encode("utf-32-be"))
                put("request_body", text.encode("utf-32-le"))

# Base64 descriptors, wherever the project's tests and golden answers hold one; the
# protobuf_descriptor target takes the decoded bytes and encodes them itself.
B64 = re.compile(r'"(C[A-Za-z0-9+/]{16,}={0,2})"')
for path in [DATA / "conformance" / "golden.json", DATA / "conformance" / "scenarios.json"] + sorted(
    (ROOT / "tests").glob("*.rs")
):
    for m in B64.finditer(path.read_text(encoding="utf-8")):
        try:
            raw = base64.b64decode(m.group(1), validate=True)
        except ValueError:
            continue
        put("protobuf_descriptor", raw)
        put("protobuf_text", m.group(1))


# Wire frames: id and GUID headers, Protobuf index paths.
def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def frame(schema_id, payload=b""):
    return b"\x00" + struct.pack(">i", schema_id) + payload


GUID = b"\x01" + bytes(range(16))
for data in [
    frame(1),
    frame(1, b"\x00payload"),
    frame(-1, zigzag(2) + zigzag(1) + zigzag(3) + b"msg"),
    frame(7, zigzag(1) + zigzag(0)),
    GUID,
    GUID + b"\x00",
    GUID + zigzag(3) + zigzag(0) + zigzag(5) + zigzag(-1),
    b"\x00\x00",
    b"\x02\x00\x00\x00\x01",
]:
    put("wire_frame", data)


# Avro payloads for the schemas of avro_payload.rs: id 1 (every type) and id 2 ({"s": string}).
def s(text):
    b = text.encode("utf-8") if isinstance(text, str) else text
    return zigzag(len(b)) + b


def record(i, text, union):
    out = b"\x01" + zigzag(i) + zigzag(-i * 1000) + struct.pack("<f", 1.5) + struct.pack("<d", -2.25)
    out += s(text) + s(b"\x00\xff") + b"abcd" + zigzag(2)
    out += zigzag(2) + zigzag(1) + zigzag(-1) + zigzag(0)  # array [1, -1]
    out += zigzag(2) + s("k") + zigzag(1) + s("v") + s("n") + zigzag(0) + zigzag(0)  # map
    out += union
    out += s(b"\x04\xd2") + zigzag(19000) + zigzag(1700000000000) + s("123e4567-e89b-12d3-a456-426614174000")
    return out


put("avro_payload", frame(1, record(42, "hello", zigzag(0))))
put("avro_payload", frame(1, record(-7, "é", zigzag(1) + zigzag(5))))
put("avro_payload", frame(1, record(0, "", zigzag(2) + s("u"))))
put("avro_payload", frame(1, record(1, "outer", zigzag(3) + record(2, "inner", zigzag(0)))))
put("avro_payload", frame(2, s("hello")))
put("avro_payload", frame(2, s("")))
put("avro_payload", frame(3, s("unknown id")))

for target in ("avro_schema", "protobuf_text", "protobuf_descriptor", "json_schema", "wire_frame", "avro_payload", "request_body"):
    total = len(list((FUZZ / "corpus" / target).glob("*"))) if (FUZZ / "corpus" / target).exists() else 0
    print(f"{target}: {counts.get(target, 0)} new seeds, {total} in corpus")
