#!/usr/bin/env python3
"""Writes small model files for the import tests, good and corrupt.

Usage: make_models.py OUT_DIR

Everything is generated here (nothing binary is committed): a tiny
Hugging Face Llama checkpoint (config.json + bf16 safetensors), the same
sharded with an index, a tiny GGUF v2 file, and one corrupt variant per
class of bad input listed in BAD_INPUTS.md beside this script.
"""
import json
import os
import struct
import sys

VOCAB, HIDDEN, FFN, LAYERS, HEADS, KV_HEADS = 32, 16, 24, 2, 4, 2
HEAD_DIM = HIDDEN // HEADS


def hf_tensors():
    t = {"model.embed_tokens.weight": [VOCAB, HIDDEN], "model.norm.weight": [HIDDEN],
         "lm_head.weight": [VOCAB, HIDDEN]}
    for l in range(LAYERS):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = [HIDDEN]
        t[p + "post_attention_layernorm.weight"] = [HIDDEN]
        t[p + "self_attn.q_proj.weight"] = [HEADS * HEAD_DIM, HIDDEN]
        t[p + "self_attn.k_proj.weight"] = [KV_HEADS * HEAD_DIM, HIDDEN]
        t[p + "self_attn.v_proj.weight"] = [KV_HEADS * HEAD_DIM, HIDDEN]
        t[p + "self_attn.o_proj.weight"] = [HIDDEN, HEADS * HEAD_DIM]
        t[p + "mlp.gate_proj.weight"] = [FFN, HIDDEN]
        t[p + "mlp.up_proj.weight"] = [FFN, HIDDEN]
        t[p + "mlp.down_proj.weight"] = [HIDDEN, FFN]
    return t


def config(**changes):
    c = {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
         "vocab_size": VOCAB, "hidden_size": HIDDEN, "intermediate_size": FFN,
         "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
         "num_key_value_heads": KV_HEADS, "max_position_embeddings": 128,
         "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": False,
         "torch_dtype": "bfloat16"}
    c.update(changes)
    return c


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def safetensors_bytes(tensors, dtype="BF16", size=2, header_patch=None, data_patch=None):
    header, offset = {}, 0
    for name, shape in tensors.items():
        n = numel(shape) * size
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = {"format": "pt"}
    if header_patch:
        header_patch(header)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    data = bytes(offset)
    if data_patch:
        data = data_patch(data)
    return struct.pack("<Q", len(text)) + text + data


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def hf_checkpoint(out, name, cfg=None, st=None, raw_config=None):
    d = os.path.join(out, name)
    write(os.path.join(d, "config.json"),
          raw_config if raw_config is not None else json.dumps(cfg or config()))
    if st is not None:
        write(os.path.join(d, "model.safetensors"), st)
    return d


def sharded(out, name, drop_shard=False, misplace=False):
    d = os.path.join(out, name)
    write(os.path.join(d, "config.json"), json.dumps(config()))
    names = list(hf_tensors().items())
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": dict(names[:half]),
              "model-00002-of-00002.safetensors": dict(names[half:])}
    weight_map = {}
    for shard, tensors in shards.items():
        for t in tensors:
            weight_map[t] = shard
        if not (drop_shard and shard.startswith("model-00002")):
            write(os.path.join(d, shard), safetensors_bytes(tensors))
    if misplace:
        weight_map["lm_head.weight"] = "model-00002-of-00002.safetensors"
    write(os.path.join(d, "model.safetensors.index.json"),
          json.dumps({"metadata": {}, "weight_map": weight_map}))


# --- GGUF ---------------------------------------------------------------
def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gguf_bytes(version=2, magic=b"GGUF", tensor_count=None, kv_extra=b"", kv_extra_count=0,
               tensors=None, bad_type=None, data_short=0, extra_tensors=None):
    kv = [("general.architecture", 8, gstr("llama")),
          ("general.name", 8, gstr("tiny-gguf")),
          ("llama.embedding_length", 4, struct.pack("<I", HIDDEN)),
          ("llama.block_count", 4, struct.pack("<I", LAYERS)),
          ("llama.feed_forward_length", 4, struct.pack("<I", FFN)),
          ("llama.attention.head_count", 4, struct.pack("<I", HEADS)),
          ("llama.attention.head_count_kv", 4, struct.pack("<I", KV_HEADS)),
          ("llama.context_length", 4, struct.pack("<I", 128)),
          ("llama.vocab_size", 4, struct.pack("<I", VOCAB)),
          ("llama.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-5))]
    if tensors is None:
        tensors = {"token_embd.weight": [VOCAB, HIDDEN], "output_norm.weight": [HIDDEN],
                   "output.weight": [VOCAB, HIDDEN]}
        for l in range(LAYERS):
            p = f"blk.{l}."
            for n, s in [("attn_norm.weight", [HIDDEN]), ("ffn_norm.weight", [HIDDEN]),
                         ("attn_q.weight", [HIDDEN, HIDDEN]),
                         ("attn_k.weight", [KV_HEADS * HEAD_DIM, HIDDEN]),
                         ("attn_v.weight", [KV_HEADS * HEAD_DIM, HIDDEN]),
                         ("attn_output.weight", [HIDDEN, HIDDEN]),
                         ("ffn_gate.weight", [FFN, HIDDEN]), ("ffn_up.weight", [FFN, HIDDEN]),
                         ("ffn_down.weight", [HIDDEN, FFN])]:
                tensors[p + n] = s
    tensors.update(extra_tensors or {})
    out = magic + struct.pack("<I", version)
    out += struct.pack("<QQ", len(tensors) if tensor_count is None else tensor_count,
                       len(kv) + kv_extra_count)
    for k, t, v in kv:
        out += gstr(k) + struct.pack("<I", t) + v
    out += kv_extra
    offset, infos = 0, b""
    for name, shape in tensors.items():
        dims = list(reversed(shape))  # ne[0] is the fastest dimension
        ggml_type = bad_type if bad_type is not None else 0
        infos += gstr(name) + struct.pack("<I", len(dims))
        infos += b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", ggml_type, offset)
        offset += numel(shape) * 4
        offset += -offset % 32
    out += infos
    out += bytes(-len(out) % 32)
    return out + bytes(max(0, offset - data_short))


def main():
    out = sys.argv[1]
    t = hf_tensors()
    # Good checkpoints.
    hf_checkpoint(out, "hf-llama", st=safetensors_bytes(t))
    hf_checkpoint(out, "hf-config-only")
    # Eight layers and eight KV heads, for placement tests.
    hf_checkpoint(out, "hf-8-layers", cfg=config(num_hidden_layers=8, num_attention_heads=8,
                                                  num_key_value_heads=8, hidden_size=64,
                                                  intermediate_size=128, vocab_size=256))
    sharded(out, "hf-sharded")
    write(os.path.join(out, "tiny.gguf"), gguf_bytes())
    write(os.path.join(out, "tiny-v3.gguf"), gguf_bytes(version=3))

    # Bad inputs, one per class.
    good_gguf = gguf_bytes()
    write(os.path.join(out, "bad/truncated.gguf"), good_gguf[:200])
    write(os.path.join(out, "bad/wrong-magic.gguf"), b"GGUX" + good_gguf[4:])
    write(os.path.join(out, "bad/version1.gguf"), gguf_bytes(version=1))
    write(os.path.join(out, "bad/huge-tensor-count.gguf"), gguf_bytes(tensor_count=1 << 60))
    write(os.path.join(out, "bad/data-past-end.gguf"), gguf_bytes(data_short=64))
    write(os.path.join(out, "bad/unknown-ggml-type.gguf"), gguf_bytes(bad_type=4))
    write(os.path.join(out, "bad/invalid-utf8-name.gguf"),
          gguf_bytes(tensors={b"token_embd.\xffweight": [VOCAB, HIDDEN]}))
    write(os.path.join(out, "bad/unmapped-tensor.gguf"),
          gguf_bytes(extra_tensors={"rope.extra_scale": [4]}))
    hf_checkpoint(out, "bad/hf-truncated-header", st=safetensors_bytes(t)[:20])
    hf_checkpoint(out, "bad/hf-header-too-long",
                  st=struct.pack("<Q", 1 << 40) + b"{}")
    hf_checkpoint(out, "bad/hf-malformed-json", st=struct.pack("<Q", 8) + b'{"a": [ ')
    hf_checkpoint(out, "bad/hf-unknown-dtype", st=safetensors_bytes(t, dtype="Q4", size=2))
    hf_checkpoint(out, "bad/hf-data-past-end",
                  st=safetensors_bytes(t, data_patch=lambda d: d[:-16]))

    def overlap(h):
        h["lm_head.weight"]["data_offsets"] = h["model.embed_tokens.weight"]["data_offsets"]
    hf_checkpoint(out, "bad/hf-overlap", st=safetensors_bytes(t, header_patch=overlap))

    def misshapen(h):
        h["model.norm.weight"]["shape"] = [HIDDEN // 2, 2]
    hf_checkpoint(out, "bad/hf-wrong-shape", st=safetensors_bytes(t, header_patch=misshapen))
    hf_checkpoint(out, "bad/hf-missing-key", cfg={k: v for k, v in config().items()
                                                 if k != "hidden_size"})
    hf_checkpoint(out, "bad/hf-bad-config-json", raw_config='{"model_type": "llama",')
    hf_checkpoint(out, "bad/hf-unsupported-arch",
                  cfg=config(model_type="gpt2", architectures=["GPT2LMHeadModel"]))
    sharded(out, "bad/hf-missing-shard", drop_shard=True)
    sharded(out, "bad/hf-misplaced-tensor", misplace=True)


if __name__ == "__main__":
    main()
