#!/usr/bin/env python3
"""Google Benchmark JSON (repetitions, aggregates) -> Markdown table rows:
median wall (min-max), median CPU (min-max), in ms."""
import json, sys
from collections import OrderedDict

rows = OrderedDict()
for path in sys.argv[1:]:
    data = json.load(open(path))
    for b in data["benchmarks"]:
        if b.get("run_type") != "aggregate":
            continue
        name = b["run_name"]
        agg = b["aggregate_name"]
        rows.setdefault(name, {})[agg] = (b["real_time"], b["cpu_time"], b["time_unit"])
ctx = data["context"]
print(f"<!-- {ctx['date']} {ctx['num_cpus']} CPUs, {ctx['mhz_per_cpu']} MHz, load {ctx.get('load_avg')} -->")
print("| benchmark | file | wall median (min-max) ms | CPU median (min-max) ms |")
print("| --- | --- | --- | --- |")
for name, a in rows.items():
    bench, file = name.split("/", 1)
    def f(i):
        return f"{a['median'][i]:.1f} ({a['min'][i]:.1f}-{a['max'][i]:.1f})"
    print(f"| {bench} | {file} | {f(0)} | {f(1)} |")
