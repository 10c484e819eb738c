#!/usr/bin/env bash
# Builds a seed corpus for jsonata_fuzz from the official suite: one file per case, holding the
# expression, a newline, and the case's input document (inline data or its dataset).
# usage: src/jsonata/fuzz/make_corpus.sh OUT_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
out="${1:?usage: make_corpus.sh OUT_DIR}"
mkdir -p "$out"
python3 - "$root/tests/conformance/jsonata" "$out" <<'PY'
import json, os, sys, glob, hashlib
suite, out = sys.argv[1], sys.argv[2]
n = 0
for f in sorted(glob.glob(os.path.join(suite, "groups", "*", "*.json"))):
    try:
        doc = json.load(open(f))
    except ValueError:
        continue
    for case in (doc if isinstance(doc, list) else [doc]):
        expr = case.get("expr")
        if expr is None and "expr-file" in case:
            expr = open(os.path.join(os.path.dirname(f), case["expr-file"])).read()
        if expr is None:
            continue
        data = case.get("data")
        if data is None and case.get("dataset"):
            data = json.load(open(os.path.join(suite, "datasets", case["dataset"] + ".json")))
        text = expr.replace("\n", " ") + "\n" + json.dumps(data)
        name = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
        open(os.path.join(out, name), "wb").write(text.encode("utf-8", "surrogatepass"))
        n += 1
print(f"{n} seeds in {out}")
PY
