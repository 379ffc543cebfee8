#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, one folder per target.

Usage: make_seeds.py OUT_DIR SOURCE_DIR SHARED_DIR [PLAN_DIR]

Every seed comes from the project's own test inputs; nothing binary is
committed:

  FuzzGGUF         tests/lit/import/Inputs/make_models.py's GGUF files (good
                   and corrupt), variants of them for the other code paths
                   (qwen2, Mixtral, RoPE scaling, alignment, every metadata
                   type), and the header of the bundled stories260K.gguf
                   (its metadata and tensor infos, without the 1 MB of
                   weights, which the reader never looks at)
  FuzzSafeTensors  make_models.py's safetensors files, good and corrupt
  FuzzHFConfig     make_models.py's config.json files and the published
                   configs quoted in tests/unit/HFConfigTest.cpp
  FuzzSir          examples/*.sir and tests/**/*.sir, split at `// -----`
  FuzzPlan         the plans in PLAN_DIR, without indentation
                   (scripts/fuzz.sh makes them with fuzz/MakePlanSeeds.cpp,
                   which compiles them as `strata compile` does)
  FuzzTokenizer    per mode (the first byte): stories260K's vocabulary as a
                   small GGUF file, vocabularies built from bytes, and texts
  FuzzJSON         FuzzHFConfig's and FuzzPlan's seeds, and short texts for
                   escapes, surrogates, numbers and whitespace
  FuzzCluster      the cluster descriptions recorded in the plans of
                   PLAN_DIR, the JSON examples of docs/cluster.md and the
                   descriptions the lit tests write
"""
import importlib.util
import json
import os
import pathlib
import random
import re
import shutil
import struct
import sys

# Seeds longer than scripts/fuzz.sh's -max_len would be cut by libFuzzer.
MAX_LEN = 64 << 10


def load_make_models(source):
    path = source / "tests/lit/import/Inputs/make_models.py"
    spec = importlib.util.spec_from_file_location("make_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Corpus:
    def __init__(self, out, target, max_len=MAX_LEN):
        self.dir = out / target
        self.dir.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.max_len = max_len

    def add(self, name, data):
        if isinstance(data, str):
            data = data.encode()
        if len(data) > self.max_len:
            return
        (self.dir / name).write_bytes(data)
        self.count += 1


# --- GGUF -----------------------------------------------------------------
SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
          7: "<B", 10: "<Q", 11: "<q", 12: "<d"}


def skip_value(data, pos, kind):
    """The offset just past a metadata value of type kind at pos."""
    if kind in SCALAR:
        return pos + struct.calcsize(SCALAR[kind])
    if kind == 8:
        (n,) = struct.unpack_from("<Q", data, pos)
        return pos + 8 + n
    if kind == 9:
        elem, count = struct.unpack_from("<IQ", data, pos)
        pos += 12
        for _ in range(count):
            pos = skip_value(data, pos, elem)
        return pos
    raise ValueError(f"unknown GGUF value type {kind}")


def gguf_header(data):
    """(version, tensor count, [(key, raw key-value bytes)], end of the
    metadata, end of the tensor infos) of a GGUF file."""
    version, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
    pos, kvs = 24, []
    for _ in range(n_kv):
        start = pos
        (n,) = struct.unpack_from("<Q", data, pos)
        key = data[pos + 8:pos + 8 + n].decode()
        (kind,) = struct.unpack_from("<I", data, pos + 8 + n)
        pos = skip_value(data, pos + 12 + n, kind)
        kvs.append((key, data[start:pos]))
    meta_end = pos
    for _ in range(n_tensors):
        (n,) = struct.unpack_from("<Q", data, pos)
        pos += 8 + n
        (dims,) = struct.unpack_from("<I", data, pos)
        pos += 4 + 8 * dims + 4 + 8
    return version, n_tensors, kvs, meta_end, pos


def gguf_from(kvs, tensor_infos=b"", n_tensors=0, version=3):
    out = b"GGUF" + struct.pack("<IQQ", version, n_tensors, len(kvs))
    return out + b"".join(raw for _, raw in kvs) + tensor_infos


def kv(mm, key, kind, value):
    return mm.gstr(key) + struct.pack("<I", kind) + value


def gguf_seeds(out, mm, stories):
    c = Corpus(out, "FuzzGGUF")
    c.add("tiny-v2.gguf", mm.gguf_bytes())
    c.add("tiny-v3.gguf", mm.gguf_bytes(version=3))
    bad = {
        "truncated": mm.gguf_bytes()[:200],
        "wrong-magic": b"GGUX" + mm.gguf_bytes()[4:],
        "version1": mm.gguf_bytes(version=1),
        "huge-tensor-count": mm.gguf_bytes(tensor_count=1 << 60),
        "data-past-end": mm.gguf_bytes(data_short=64),
        "unknown-ggml-type": mm.gguf_bytes(bad_type=4),
        "unmapped-tensor": mm.gguf_bytes(extra_tensors={"rope.extra_scale": [4]}),
    }
    for name, data in bad.items():
        c.add(f"bad-{name}.gguf", data)

    # Every metadata value type, nested arrays and the alignment key.
    every_type = b"".join([
        kv(mm, "x.u8", 0, b"\x07"), kv(mm, "x.i8", 1, b"\xff"),
        kv(mm, "x.u16", 2, struct.pack("<H", 7)),
        kv(mm, "x.i16", 3, struct.pack("<h", -7)),
        kv(mm, "x.i32", 5, struct.pack("<i", -7)),
        kv(mm, "x.bool", 7, b"\x01"),
        kv(mm, "x.u64", 10, struct.pack("<Q", 7)),
        kv(mm, "x.i64", 11, struct.pack("<q", -7)),
        kv(mm, "x.f64", 12, struct.pack("<d", 0.5)),
        kv(mm, "x.strings", 9, struct.pack("<IQ", 8, 2) + mm.gstr("a") + mm.gstr("b")),
        kv(mm, "x.nested", 9, struct.pack("<IQ", 9, 1) + struct.pack("<IQ", 4, 2) +
           struct.pack("<II", 1, 2)),
        kv(mm, "general.alignment", 4, struct.pack("<I", 32)),
    ])
    c.add("every-type.gguf", mm.gguf_bytes(kv_extra=every_type, kv_extra_count=12))

    # The other code paths of modelConfigFromGGUF; the metadata still says
    # llama, so these change what the arch-specific keys are read as.
    rope = b"".join([
        kv(mm, "llama.rope.scaling.type", 8, mm.gstr("yarn")),
        kv(mm, "llama.rope.scaling.factor", 6, struct.pack("<f", 4.0)),
        kv(mm, "llama.rope.scaling.original_context_length", 4, struct.pack("<I", 64)),
        kv(mm, "llama.rope.freq_base", 6, struct.pack("<f", 10000.0)),
    ])
    c.add("rope-yarn.gguf", mm.gguf_bytes(kv_extra=rope, kv_extra_count=4))
    moe = b"".join([
        kv(mm, "llama.expert_count", 4, struct.pack("<I", 4)),
        kv(mm, "llama.expert_used_count", 4, struct.pack("<I", 2)),
    ])
    c.add("mixtral-keys.gguf", mm.gguf_bytes(kv_extra=moe, kv_extra_count=2))
    qwen = mm.gguf_bytes().replace(mm.gstr("llama"), mm.gstr("qwen2"), 1)
    c.add("qwen2-arch.gguf", qwen)

    # stories260K without its weights: the metadata and tensor infos as they
    # are (their data now lies past the end), and the metadata alone.
    version, n_tensors, kvs, meta_end, infos_end = gguf_header(stories)
    c.add("stories260K-header.gguf", stories[:infos_end])
    c.add("stories260K-metadata.gguf", gguf_from(kvs, version=version))
    return c.count


# --- safetensors and config.json -----------------------------------------
def safetensors_seeds(out, mm):
    c = Corpus(out, "FuzzSafeTensors")
    t = mm.hf_tensors()
    c.add("tiny-bf16.safetensors", mm.safetensors_bytes(t))
    c.add("tiny-f32.safetensors", mm.safetensors_bytes(t, dtype="F32", size=4))
    c.add("empty.safetensors", struct.pack("<Q", 2) + b"{}")
    c.add("truncated-header.safetensors", mm.safetensors_bytes(t)[:20])
    c.add("header-too-long.safetensors", struct.pack("<Q", 1 << 40) + b"{}")
    c.add("malformed-json.safetensors", struct.pack("<Q", 8) + b'{"a": [ ')
    c.add("unknown-dtype.safetensors", mm.safetensors_bytes(t, dtype="Q4", size=2))
    c.add("data-past-end.safetensors",
          mm.safetensors_bytes(t, data_patch=lambda d: d[:-16]))

    def overlap(h):
        h["lm_head.weight"]["data_offsets"] = h["model.embed_tokens.weight"]["data_offsets"]

    def misshapen(h):
        h["model.norm.weight"]["shape"] = [mm.HIDDEN // 2, 2]

    c.add("overlap.safetensors", mm.safetensors_bytes(t, header_patch=overlap))
    c.add("wrong-shape.safetensors", mm.safetensors_bytes(t, header_patch=misshapen))
    return c.count


def hfconfig_seeds(out, mm, source):
    c = Corpus(out, "FuzzHFConfig")
    c.add("tiny-llama.json", json.dumps(mm.config()))
    c.add("tiny-8-layers.json",
          json.dumps(mm.config(num_hidden_layers=8, num_attention_heads=8,
                               num_key_value_heads=8, hidden_size=64,
                               intermediate_size=128, vocab_size=256)))
    c.add("missing-key.json",
          json.dumps({k: v for k, v in mm.config().items() if k != "hidden_size"}))
    c.add("truncated.json", '{"model_type": "llama",')
    c.add("unsupported-arch.json",
          json.dumps(mm.config(model_type="gpt2", architectures=["GPT2LMHeadModel"])))
    test = (source / "tests/unit/HFConfigTest.cpp").read_text()
    for name, text in re.findall(r'const char \*const (\w+) = R"\((\{.*?\})\)";', test,
                                 flags=re.S):
        c.add(f"{name}.json", text)
    return c.count


# --- .sir -----------------------------------------------------------------
def sir_seeds(out, source):
    c = Corpus(out, "FuzzSir")
    files = sorted(source.glob("examples/*.sir")) + sorted(source.glob("tests/**/*.sir"))
    for path in files:
        chunks = re.split(r"^// -----\s*$", path.read_text(), flags=re.M)
        stem = str(path.relative_to(source)).replace("/", "_")
        for i, chunk in enumerate(chunks):
            c.add(f"{stem}.{i}.sir", chunk)
    return c.count


# --- plans ------------------------------------------------------------------
def plan_seeds(out, plan_dir):
    c = Corpus(out, "FuzzPlan")
    if plan_dir:
        for path in sorted(pathlib.Path(plan_dir).glob("*.json")):
            # Without the indentation: half the bytes for the fuzzer to
            # mutate, the same plan for the reader.
            plan = json.loads(path.read_text())
            c.add(path.name, json.dumps(plan, separators=(",", ":"), sort_keys=True))
    return c.count


# --- JSON -----------------------------------------------------------------
JSON_TEXTS = [
    r'"\" \\ \/ \b \f \n \r \t"',
    r'["\u0041\u00e9\u20ac", "\ud83d\ude00", "\ud8dd\ude00", "\ud83d", "\ude00x"]',
    '[0, -0, 12, -1.5e-3, 1E+2, .5, +5, 9223372036854775807, 9223372036854775808, 1e400]',
    '{"a": {"b": [true, false, null]}, "a": 1}',
    ' \t\r\n[ ]\n',
    "\"caf\\u00e9 caf\u00e9\"",
]


def json_seeds(out):
    """FuzzHFConfig's and FuzzPlan's seeds (written first) and JSON_TEXTS."""
    c = Corpus(out, "FuzzJSON")
    for target in ("FuzzHFConfig", "FuzzPlan"):
        for path in sorted((out / target).glob("*")):
            c.add(f"{target}-{path.name}", path.read_bytes())
    for i, text in enumerate(JSON_TEXTS):
        c.add(f"text-{i}.json", text.encode("utf-8", "surrogateescape"))
    return c.count


# --- cluster descriptions -------------------------------------------------
def cluster_seeds(out, source, plan_dir):
    c = Corpus(out, "FuzzCluster")
    if plan_dir:
        for path in sorted(pathlib.Path(plan_dir).glob("*.json")):
            description = json.loads(path.read_text())["cluster"]["description"]
            if description:
                c.add(f"plan-{path.name}", json.dumps(description))
    doc = (source / "docs/cluster.md").read_text()
    for i, block in enumerate(re.findall(r"```json\n(.*?)```", doc, re.S)):
        if '"nodes"' in block:
            c.add(f"doc-{i}.json", block)
    texts = set()
    for test in sorted((source / "tests/lit").rglob("*.test")):
        texts.update(re.findall(r"echo '(\{\"nodes\".*?\})' >", test.read_text()))
    for i, text in enumerate(sorted(texts)):
        c.add(f"lit-{i}.json", text)
    return c.count


# --- tokenizer ------------------------------------------------------------
def tokenizer_seeds(out, stories):
    c = Corpus(out, "FuzzTokenizer")
    # Mode 0: stories260K's vocabulary (its tokenizer.* keys) as a small
    # GGUF file.
    _, _, kvs, _, _ = gguf_header(stories)
    vocab = [(k, raw) for k, raw in kvs
             if k.startswith("tokenizer.") or k == "general.architecture"]
    c.add("mode0-stories-vocab", b"\x00" + gguf_from(vocab))
    # Mode 1: vocabularies made from bytes (FuzzedDataProvider takes the
    # integers from the end, the strings from the front).
    rng = random.Random(260)
    for i in range(8):
        c.add(f"mode1-random-{i}",
              b"\x01" + bytes(rng.randrange(256) for _ in range(64 + 96 * i)))
    # Mode 2: text for the stories260K vocabulary.
    texts = [
        "Once upon a time, there was a little girl named Lily.",
        " leading and  double  spaces ",
        "caf\u00e9 na\u00efve \u00fcber \u4f60\u597d \U0001F642",
        "tabs\tand\nnewlines\r\n",
        "",
    ]
    # The byte after the mode says whether BOS goes first (its low bit).
    for i, text in enumerate(texts):
        c.add(f"mode2-text-{i}", b"\x02\x00" + text.encode())
        c.add(f"mode2-text-bos-{i}", b"\x02\x01" + text.encode())
    c.add("mode2-invalid-utf8", b"\x02\x00" + b"\xff\xc3 \xe2\x82 \xf0\x9f\x99")
    return c.count


def main():
    out, source, shared = (pathlib.Path(a) for a in sys.argv[1:4])
    plan_dir = sys.argv[4] if len(sys.argv) > 4 else None
    if out.exists():
        shutil.rmtree(out)
    mm = load_make_models(source)
    stories = (shared / "models/stories260K.gguf").read_bytes()
    counts = {
        "FuzzGGUF": gguf_seeds(out, mm, stories),
        "FuzzSafeTensors": safetensors_seeds(out, mm),
        "FuzzHFConfig": hfconfig_seeds(out, mm, source),
        "FuzzSir": sir_seeds(out, source),
        "FuzzPlan": plan_seeds(out, plan_dir),
        "FuzzTokenizer": tokenizer_seeds(out, stories),
    }
    counts["FuzzJSON"] = json_seeds(out)
    counts["FuzzCluster"] = cluster_seeds(out, source, plan_dir)
    for target, n in counts.items():
        print(f"make_seeds: {target}: {n} seeds")


if __name__ == "__main__":
    main()
