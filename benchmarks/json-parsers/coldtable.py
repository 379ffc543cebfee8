#!/usr/bin/env python3
"""The one-parse-per-process table (docs/json.md) from coldrun.sh output."""
import statistics, sys
from collections import OrderedDict
LABELS = OrderedDict([
    ("doc", "a: `parseJSONDocument`"),
    ("plan", "b: `plan::parsePlan`"),
    ("dom", "c: simdjson DOM parse"),
    ("ondemand", "d: simdjson On-Demand, every value touched"),
    ("odsketch", "e1: On-Demand + sketch reader"),
    ("domsketch", "e2: DOM + sketch reader"),
    ("llvm", "f: `llvm::json::parse`"),
])
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 10 and f[1] == "RESULT":
        runs.setdefault((f[0], f[2]), []).append((float(f[3]), float(f[4]), int(f[5]), int(f[9])))
med = statistics.median
def base(file, mode):
    m = "readpadded" if mode in ("dom", "ondemand", "domsketch", "odsketch") else "read"
    return med([r[3] for r in runs[(file, m)]])
print("| | 405B CPU ms | 405B minor faults | 405B peak RSS MiB (text alone: 37.1) | 8B CPU ms | 8B minor faults | 8B peak RSS MiB (text alone: 12.0) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for mode, label in LABELS.items():
    cells = []
    for file in ("b405.json", "b8.json"):
        rs = runs[(file, mode)]
        c = [r[1] for r in rs]
        peak = med([r[3] for r in rs])
        cells += [f"{med(c):.0f} ({min(c):.0f}–{max(c):.0f})", f"{med([r[2] for r in rs]):.0f}",
                  f"{peak/1024:.1f} (+{(peak-base(file, mode))/1024:.1f})"]
    print(f"| {label} | " + " | ".join(cells) + " |")
n = len(runs[("b405.json", "doc")])
print(f"\n({n} processes per row and file)")
