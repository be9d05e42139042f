#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets from the conformance suites
and the definitions in workflows/, instead of copying files into the repo.

    make_corpus.py OUT_DIR [CONFORMANCE_DIR]

Writes OUT_DIR/<target>/<hash> for the targets json, yaml, validator,
jsonpath, intrinsics, compiled, jsonata and interpreter. CONFORMANCE_DIR defaults to
$OW_CONFORMANCE_DIR or ../shared/conformance beside the repository.
"""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MAX_SEEDS = 3000  # per target


def seed(out, target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if len(os.listdir(d)) >= MAX_SEEDS:
        return
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def strings(value, out):
    """Every string (and '.$' key's value) inside a JSON value."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for v in value:
            strings(v, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            out.append(k)
            strings(v, out)


def to_yaml(value):
    try:
        import yaml  # PyYAML, when present: block style
        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True)
    except Exception:  # JSON is YAML too
        return json.dumps(value, indent=2)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    conf = (sys.argv[2] if len(sys.argv) > 2 else
            os.environ.get("OW_CONFORMANCE_DIR") or
            os.path.join(ROOT, "..", "shared", "conformance"))
    definitions = []  # (definition text, parsed, input text)
    cases = os.path.join(conf, "cases")
    if os.path.isdir(cases):
        for name in sorted(os.listdir(cases)):
            d = os.path.join(cases, name)
            dp = os.path.join(d, "definition.json")
            if not os.path.exists(dp):
                continue
            text = read(dp)
            inp = read(os.path.join(d, "input.json")) if os.path.exists(
                os.path.join(d, "input.json")) else "{}"
            try:
                definitions.append((text, json.loads(text), inp))
            except ValueError:
                continue
            for f in ("input.json", "expected.json"):
                if os.path.exists(os.path.join(d, f)):
                    seed(out, "json", read(os.path.join(d, f)))
    for kind in ("valid", "invalid"):
        vd = os.path.join(conf, "validator", kind)
        if os.path.isdir(vd):
            for name in sorted(os.listdir(vd)):
                text = read(os.path.join(vd, name))
                try:
                    definitions.append((text, json.loads(text), "{}"))
                except ValueError:
                    seed(out, "validator", text)
    wf = os.path.join(ROOT, "workflows")
    if os.path.isdir(wf):
        for name in sorted(os.listdir(wf)):
            text = read(os.path.join(wf, name))
            if name.endswith((".yaml", ".yml")):
                seed(out, "yaml", text)
                seed(out, "validator", text)
            elif name.endswith(".json"):
                seed(out, "json", text)
    for text, doc, inp in definitions:
        seed(out, "json", text)
        seed(out, "validator", text)
        seed(out, "yaml", to_yaml(doc))
        seed(out, "compiled", text + "\0" + inp)
        seed(out, "interpreter", text + "\0" + inp)
        found = []
        strings(doc, found)
        for s in found:
            if s.startswith("$"):
                seed(out, "jsonpath", s + "\n" + inp)
            elif s.startswith("States."):
                seed(out, "intrinsics", s + "\n" + inp)
    # JSONata: every {% ... %} expression of the JSONata suite, with its input.
    jconf = os.path.join(os.path.dirname(os.path.abspath(conf)),
                         "conformance-jsonata", "cases")
    if os.path.isdir(jconf):
        for name in sorted(os.listdir(jconf)):
            d = os.path.join(jconf, name)
            dp = os.path.join(d, "definition.json")
            if not os.path.exists(dp):
                continue
            inp = read(os.path.join(d, "input.json")) if os.path.exists(
                os.path.join(d, "input.json")) else "{}"
            try:
                doc = json.loads(read(dp))
            except ValueError:
                continue
            seed(out, "interpreter", read(dp) + "\0" + inp)
            found = []
            strings(doc, found)
            for s in found:
                t = s.strip()
                if t.startswith("{%") and t.endswith("%}"):
                    seed(out, "jsonata", t[2:-2].strip().replace("\n", " ") +
                         "\n" + inp)
    seed(out, "jsonata", 'Account.Order.Product[Price > 30].(Price * Quantity)\n'
         '{"Account":{"Order":[{"Product":[{"Price":34.45,"Quantity":2}]}]}}')
    seed(out, "jsonata", '$map([1..5], function($v){$v*$v}) ~> $sum()\n{}')
    seed(out, "jsonata", '$partition([1,2,3,4,5], 2)\n{}')
    # A few shapes the suites lack.
    seed(out, "yaml", "a: &a [x, y]\nb: [*a, *a]\nc: {k: *a}\n")
    seed(out, "yaml", "k: |\n  text [ {\n  more\nl: 'it''s'\n")
    seed(out, "jsonpath", "$..book[?(@.price < 10 && !(@.x == 'a'))]\n"
         '{"book":[{"price":5,"x":"b"},{"price":20}]}')
    seed(out, "jsonpath", "$[?(@.s =~ /^a.*b$/i)].s\n"
         '[{"s":"aXb"},{"s":"c"}]')
    seed(out, "intrinsics", "States.ArrayUnique(States.Array(1, 1.0, '1'))\n{}")
    for target in ("json", "yaml", "validator", "jsonpath", "intrinsics",
                   "compiled", "jsonata", "interpreter"):
        d = os.path.join(out, target)
        n = len(os.listdir(d)) if os.path.isdir(d) else 0
        print(f"{target}: {n} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
