#!/usr/bin/env python3
"""The table of docs/json.md: per benchmark, CPU and wall medians (min-max) in ms on
both plans; each row from the first run file (in argument order) that has it."""
import json, sys

LABELS = [
    ("a_StrataDocument", "a", "`parseJSONDocument` (Strata's document)"),
    ("b_StrataParsePlan", "b", "`plan::parsePlan` whole"),
    ("c_SimdDomReused", "c", "simdjson DOM `parser::parse`, parser reused"),
    ("c_SimdDomFresh", "c'", "simdjson DOM `parser::parse`, new parser each time"),
    ("d_SimdOnDemandReused", "d", "simdjson On-Demand, every value touched, parser reused"),
    ("d_SimdOnDemandFresh", "d'", "simdjson On-Demand, every value touched, new parser each time"),
    ("e_SimdOnDemandSketchReused", "e1", "On-Demand + sketch reader into `plan::Plan`"),
    ("e_SimdDomSketchReused", "e2", "DOM + the same sketch reader (tree version)"),
    ("e_StrataDocumentSketch", "e0", "`parseJSONDocument` + the same tree sketch reader"),
    ("f_LLVMJsonParse", "f", "`llvm::json::parse`"),
    ("f_StrataParseJSON", "f'", "`strata::parseJSON` (same `json::Value`)"),
    ("x_NestingScan", "s", "`findJSONNestingBeyond` (parsePlan's first pass)"),
    ("x_PadCopy", "p", "copy into a `simdjson::padded_string`"),
]
runs = []
for path in sys.argv[1:]:
    agg = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type") == "aggregate":
            agg.setdefault(b["run_name"], {})[b["aggregate_name"]] = (b["cpu_time"], b["real_time"], b["repetitions"])
    runs.append((path.split("/")[-1], agg))

def cell(name, i):
    for src, agg in runs:
        if name in agg:
            a = agg[name]
            return f"{a['median'][i]:.1f} ({a['min'][i]:.1f}–{a['max'][i]:.1f})", src, a["median"][2]
    return "-", "-", 0

print("| | what | 405B CPU ms | 405B wall ms | 8B CPU ms | 8B wall ms | run |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for bench, tag, what in LABELS:
    c405, src, reps = cell(f"{bench}/b405.json", 0)
    w405, _, _ = cell(f"{bench}/b405.json", 1)
    c8, _, _ = cell(f"{bench}/b8.json", 0)
    w8, _, _ = cell(f"{bench}/b8.json", 1)
    print(f"| {tag} | {what} | {c405} | {w405} | {c8} | {w8} | {src.replace('.json','')} ({reps} reps) |")
