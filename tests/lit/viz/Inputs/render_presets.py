#!/usr/bin/env python3
"""Compiles presets with strata and renders each plan in every format.

Usage: render_presets.py OUTDIR PRESET=CLUSTER...

For each plan: text must hold the report's tables, dot must be one whole
digraph, html must be self-contained and stay under 200 bytes per buffer
(so that a 50,000-buffer plan stays well under 20 MB), and the trace must
pass check_trace.py with one named track per stream. Prints one line per
plan; exits 1 at the first failure, naming the command.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BYTES_PER_BUFFER = 200


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s%s" % (r.returncode, " ".join(cmd), r.stdout, r.stderr))
    return r.stdout


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for item in sys.argv[2:]:
        preset, cluster = item.split("=")
        plan = os.path.join(out, preset + ".json")
        run(["strata", "compile", "preset:" + preset, "--cluster", cluster, "-o", plan])
        with open(plan, encoding="utf-8") as f:
            p = json.load(f)
        files = {}
        for fmt in ("text", "dot", "html", "trace"):
            files[fmt] = os.path.join(out, preset + "." + fmt)
            run(["strata", "viz", plan, "--format", fmt, "-o", files[fmt]])
        text = open(files["text"], encoding="utf-8").read()
        for table in ("weights per device", "layers per device", "KV cache per device",
                      "memory per device", "predicted (cost model)"):
            if table not in text:
                sys.exit("%s: no '%s' table" % (files["text"], table))
        dot = open(files["dot"], encoding="utf-8").read()
        if not dot.startswith("digraph ") or not dot.rstrip().endswith("}") \
                or dot.count("{") != dot.count("}"):
            sys.exit("%s: not one whole digraph" % files["dot"])
        run([sys.executable, os.path.join(HERE, "self_contained.py"), files["html"]])
        html_bytes = os.path.getsize(files["html"])
        if html_bytes > BYTES_PER_BUFFER * max(1, len(p["buffers"])) + 100000:
            sys.exit("%s: %d bytes for %d buffers" % (files["html"], html_bytes, len(p["buffers"])))
        summary = run([sys.executable, os.path.join(HERE, "check_trace.py"), files["trace"],
                       "--streams", str(len(p["streams"])), "--source", "predicted"])
        print("%s on %s: %d devices, %d buffers; html %d bytes; %s"
              % (preset, cluster, len(p["devices"]), len(p["buffers"]), html_bytes,
                 summary.strip()))


if __name__ == "__main__":
    main()
