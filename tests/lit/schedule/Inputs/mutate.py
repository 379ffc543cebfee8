"""Plants one fault in a copy of a plan for each verifier check.

Usage: mutate.py PLAN OUTDIR. Writes OUTDIR/<fault>.json for each fault,
and OUTDIR/<fault>.check, the FileCheck lines the verifier's message must
match: it must name the buffers and steps planted here.
"""
import copy
import json
import sys

plan = json.load(open(sys.argv[1]))
out = sys.argv[2]


def write(name, p, *checks):
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(p, f, indent=2, sort_keys=True)
    with open(f"{out}/{name}.check", "w") as f:
        f.write(f"CHECK: error: {{{{.*}}}}{name}.json: the plan is not safe to run\n")
        for c in checks:
            f.write(f"CHECK: {c}\n")


def arena(p, program, device):
    return [(i, b) for i, b in enumerate(p["buffers"])
            if b.get("program") == program and b["device"] == device
            and b.get("region") == "arena" and "view_of" not in b
            and b["bytes"] > 0]


# Two buffers live at a common step, moved onto the same bytes.
p = copy.deepcopy(plan)
done = False
for i, a in arena(p, "decode", 0):
    for j, b in arena(p, "decode", 0):
        if i < j and a["live"][0] <= b["live"][1] and b["live"][0] <= a["live"][1] \
                and a["offset"] != b["offset"]:
            b["offset"] = a["offset"]
            done = (i, j)
            break
    if done:
        break
assert done, "no two decode buffers live at once"
i, j = done
write("overlap", p, f"buffer {{{{({i}|{j})}}}} '{{{{[^']+}}}}' and buffer "
      f"{{{{({i}|{j})}}}} '{{{{[^']+}}}}' of program 'decode' overlap on device 0")

# A wait removed.
p = copy.deepcopy(plan)
for prog in p["programs"]:
    steps = prog["steps"]
    k = next(k for k, s in enumerate(steps) if s.get("waits"))
    del steps[k]["waits"]
    write("nowait", p, f"{prog['name']} step {k} ({{{{.*}}}}) {{{{reads|writes}}}} "
          "buffer {{.*}} without waiting for it")
    break

# The event a step waits for never recorded.
p = copy.deepcopy(plan)
steps = p["programs"][0]["steps"]
k = next(k for k, s in enumerate(steps) if s.get("waits"))
event = steps[k]["waits"][0]
for s in steps:
    if s.get("record") == event:
        del s["record"]
write("norecord", p, f"{p['programs'][0]['name']} step {k} ({{{{.*}}}}) waits "
      f"for event {event}, which no earlier step records")

# A device one byte short.
p = copy.deepcopy(plan)
d = p["devices"][1]
need = sum(d["region_bytes"].values()) + d["reserve_bytes"]
d["capacity_bytes"] = need - 1
write("overfull", p, f"device 1 (cpu) needs {need} bytes (weights "
      "{{[0-9]+}}, KV cache {{[0-9]+}}, arena {{[0-9]+}}, reserve 0) but has "
      f"{need - 1}")

# A live range that ends before the buffer's last read.
p = copy.deepcopy(plan)
i, b = max(arena(p, "decode", 1), key=lambda x: x[1]["live"][1] - x[1]["live"][0])
b["live"] = [b["live"][0], b["live"][0]]
write("short", p, f"buffer {i} '{{{{[^']+}}}}'{{{{.*}}}} outside its live range")
