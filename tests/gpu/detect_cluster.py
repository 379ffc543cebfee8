#!/usr/bin/env python3
"""GPU check: `--cluster detect` on a real CUDA machine.

Compares what strata detects (device count, name, memory) with what
nvidia-smi reports, then compiles the bundled model for the detected cluster
and verifies the plan. Exits 77 (ctest's skip code) with a message where no
CUDA device is found: on CPU-only machines this test has nothing to check.

usage: detect_cluster.py STRATA MODEL WORKDIR
"""
import json
import os
import shutil
import subprocess
import sys

SKIP = 77


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    strata, model, workdir = sys.argv[1:4]
    smi = shutil.which("nvidia-smi")
    if not smi:
        print("SKIP: no CUDA device here (nvidia-smi not found)")
        return SKIP
    q = run([smi, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"])
    if q.returncode != 0 or not q.stdout.strip():
        print("SKIP: no CUDA device here (nvidia-smi: %s)" % (q.stderr.strip() or "no devices"))
        return SKIP
    gpus = [line.rsplit(",", 1) for line in q.stdout.strip().splitlines()]
    print("nvidia-smi: %d device(s): %s" % (len(gpus), "; ".join(n.strip() + ", " + m.strip() + " MiB" for n, m in gpus)))

    d = run([strata, "devices", "--json"])
    if d.returncode != 0:
        fail("strata devices (detect) exited %d: %s" % (d.returncode, d.stderr.strip()))
    cluster = json.loads(d.stdout)
    devices = [dev for node in cluster["nodes"] for dev in node["devices"]]
    if len(devices) != len(gpus):
        fail("detected %d devices, nvidia-smi lists %d" % (len(devices), len(gpus)))
    for dev, (name, mib) in zip(devices, gpus):
        if dev["kind"] != "gpu":
            fail("device %d detected as kind %r" % (dev["index"], dev["kind"]))
        short = dev["name"].split("-")[0].lower()
        if short not in name.lower():
            fail("device %d detected as %s, nvidia-smi says %s" % (dev["index"], dev["name"], name))
        smi_bytes = int(mib) * (1 << 20)
        ratio = dev["capacity_bytes"] / smi_bytes
        print("device %d: %s, capacity %d bytes (%.4f of nvidia-smi's %s MiB), reserve %d bytes"
              % (dev["index"], dev["name"], dev["capacity_bytes"], ratio, mib.strip(), dev["reserve_bytes"]))
        if not 0.98 <= ratio <= 1.0 + 1e-9:
            fail("device %d capacity %d is not within 2%% below nvidia-smi's %d"
                 % (dev["index"], dev["capacity_bytes"], smi_bytes))

    os.makedirs(workdir, exist_ok=True)
    plan = os.path.join(workdir, "detect-plan.json")
    c = run([strata, "compile", model, "--cluster", "detect", "-o", plan])
    if c.returncode != 0:
        fail("strata compile --cluster detect exited %d: %s" % (c.returncode, c.stderr.strip()))
    v = run([strata, "verify", plan, "--quiet"])
    if v.returncode != 0:
        fail("strata verify exited %d: %s" % (v.returncode, v.stdout + v.stderr))
    p = json.load(open(plan))
    kinds = {dev.get("kind") for dev in p["devices"]}
    if len(p["devices"]) != len(gpus) or kinds != {"gpu"}:
        fail("plan has devices %r" % [(dev.get("index"), dev.get("kind")) for dev in p["devices"]])
    print("compiled and verified %s for the detected cluster (%d device(s))" % (os.path.basename(model), len(gpus)))
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
