#!/usr/bin/env python3
"""Builds confluent-7.9.0-avro-cases.json from the recorded Confluent 7.9.0 corpus
(wushilin/rust-schema-registry tests/http_conformance/, Apache-2.0).

Usage: extract_confluent_corpus.py <corpus dir> > confluent-7.9.0-avro-cases.json

Every Avro registration (POST /subjects/S/versions) becomes a case with the text sent, the
references' texts, whether normalize applied, and either the canonical text Confluent returned
for the resulting id (from any response in the same scenario that shows that id's schema), or
the `details:` message of a 42201. `id` is the scenario-local id symbol: two cases of one
scenario with the same symbol (and no references or metadata) must have the same canonical text.
"""
import json, sys, urllib.parse

SCENARIOS = ["reg-avro", "reg-avro-valid", "reg-avro-invalid", "avro-invalid-2", "avro-defaults",
             "reg-avro-normalize", "compat-types", "config-levels-enforced", "refs-avro", "reg-body"]

def main(root):
    scenarios = json.load(open(f"{root}/scenarios.json"))
    golden = json.load(open(f"{root}/golden.json"))
    cases = []
    for sc in scenarios:
        name = sc["name"]
        if name not in SCENARIOS:
            continue
        resp = golden[name]
        id_schema = {}          # id symbol -> canonical text shown by Confluent
        versions = {}           # subject -> [texts by version]
        normalize_subjects = set()
        pending = []
        for i, (st, r) in enumerate(zip(sc["steps"], resp)):
            path = st["p"]
            base, _, query = path.partition("?")
            q = urllib.parse.parse_qs(query)
            body = st.get("b")
            rb = r["body"]
            if isinstance(rb, dict) and "schema" in rb and "id" in rb and rb.get("schemaType", "AVRO") == "AVRO":
                id_schema.setdefault(rb["id"], rb["schema"])
            if isinstance(rb, dict) and "schema" in rb and base.startswith("/schemas/ids/{$"):
                id_schema.setdefault(base.split("/")[3].strip("{}"), rb["schema"])
            if st["m"] == "PUT" and base.startswith("/config/") and isinstance(body, dict) and body.get("normalize"):
                normalize_subjects.add(urllib.parse.unquote(base.split("/")[2]))
            parts = base.split("/")
            if not (st["m"] == "POST" and len(parts) == 4 and parts[1] == "subjects" and parts[3] == "versions"):
                continue
            if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
                continue
            if body.get("schemaType", "AVRO") != "AVRO" or body.get("metadata") or body.get("ruleSet"):
                continue
            subject = urllib.parse.unquote(parts[2])
            refs = []
            for ref in body.get("references") or []:
                vs = versions.get(ref["subject"], [])
                if ref["version"] - 1 < len(vs):
                    refs.append(vs[ref["version"] - 1])
            normalize = q.get("normalize", ["false"])[0] == "true" or subject in normalize_subjects
            case = {"scenario": name, "step": i, "schema": body["schema"], "references": refs,
                    "normalize": normalize}
            if r["status"] == 200 and isinstance(rb, dict) and "id" in rb:
                case["id"] = rb["id"]
                texts = versions.setdefault(subject, [])
                if body["schema"] not in texts:
                    texts.append(body["schema"])
            elif r["status"] == 422 and isinstance(rb, dict) and rb.get("error_code") == 42201 and "details: " in rb.get("message", ""):
                detail = rb["message"].split("details: ", 1)[1]
                if detail.startswith("com.fasterxml.jackson"):
                    case["expect_json_error"] = True
                else:
                    case["expect_error"] = detail
            else:
                continue
            pending.append(case)
        for case in pending:
            if "id" in case and case["id"] in id_schema:
                case["expect_canonical"] = id_schema[case["id"]]
            cases.append(case)
    json.dump(cases, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")

if __name__ == "__main__":
    main(sys.argv[1])
