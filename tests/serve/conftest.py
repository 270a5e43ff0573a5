"""Fixtures for the server tests: tiny real bundles, a fake built web app, a secret outside both, and
a helper that runs an app under uvicorn on a free port in a background thread."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import uvicorn

from liveseg.serve import server

SECRET = b"TOP-SECRET-do-not-serve"
# Vite-style content-hashed names (8 base64url characters after the last dash) and an unhashed public file.
ASSETS = {
    "js": "assets/index-Bq3xZ9a1.js",
    "map": "assets/index-Bq3xZ9a1.js.map",
    "mjs": "assets/ort-wasm-simd-threaded.jsep-C7d8E9f0.mjs",
    "wasm": "assets/ort-wasm-simd-threaded.jsep-D8e9F0a1.wasm",
    "svg": "assets/logo-A1b2C3d4.svg",
    "favicon": "favicon.svg",
    "leak": "assets/leak-Zz9Yy8Xx.js",  # a symlink to the secret outside the served directory
}


def tiny_onnx(graph: str = "labels") -> bytes:
    """A real, checked ONNX graph with the bundle IO contract: uint8 NHWC in, uint8 labels (decoded from the class-id
    constants `liveseg/post/id<k>`, as a bundle's are) and confidence out; or, for `graph="logits"`, float32 RGBA in
    and the 11 class logits out."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    consts = {
        "w1": rng.standard_normal((16, 3, 3, 3)).astype(np.float32),
        "w2": rng.standard_normal((11, 16, 1, 1)).astype(np.float32),
        "scale": np.array(255.0, dtype=np.float32),
        "axis": np.array([1], np.int64),
        **{f"at{k}": np.array([k], np.int64) for k in (0, 3)},
        **{f"liveseg/post/id{k}": np.array(k, np.uint8) for k in range(11)},
    }
    logits = graph == "logits"
    if logits:  # float RGBA: alpha dropped from the planes
        nodes = [
            helper.make_node("Transpose", ["image"], ["planes"], perm=[0, 3, 1, 2]),
            helper.make_node("Slice", ["planes", "at0", "at3", "axis"], ["nchw"]),
        ]
    else:
        nodes = [
            helper.make_node("Cast", ["image"], ["f"], to=TensorProto.FLOAT),
            helper.make_node("Transpose", ["f"], ["nchw"], perm=[0, 3, 1, 2]),
        ]
    nodes += [
        helper.make_node("Conv", ["nchw", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["logits"]),
    ]
    if logits:
        inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 8, 8, 4])]
        outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 11, 8, 8])]
    else:
        parts = [f"part{k}" for k in range(11)]
        nodes += [helper.make_node("Split", ["logits"], parts, axis=1), helper.make_node("Max", parts, ["peak"])]
        ids = "liveseg/post/id10"
        for k in range(9, -1, -1):  # the first maximum wins, as ArgMax's
            nodes += [
                helper.make_node("Equal", [parts[k], "peak"], [f"is{k}"]),
                helper.make_node("Where", [f"is{k}", f"liveseg/post/id{k}", ids], [f"ids{k}"]),
            ]
            ids = f"ids{k}"
        nodes += [
            helper.make_node("Squeeze", [ids, "axis"], ["labels"]),
            helper.make_node("Softmax", ["logits"], ["prob"], axis=1),
            helper.make_node("ReduceMax", ["prob"], ["top"], axes=[1], keepdims=0),
            helper.make_node("Mul", ["top", "scale"], ["scaled"]),
            helper.make_node("Round", ["scaled"], ["rounded"]),
            helper.make_node("Cast", ["rounded"], ["confidence"], to=TensorProto.UINT8),
        ]
        inputs = [helper.make_tensor_value_info("image", TensorProto.UINT8, ["N", 8, 8, 3])]
        outputs = [
            helper.make_tensor_value_info("labels", TensorProto.UINT8, ["N", 8, 8]),
            helper.make_tensor_value_info("confidence", TensorProto.UINT8, ["N", 8, 8]),
        ]
    initializers = [numpy_helper.from_array(v, k) for k, v in consts.items()]
    model = helper.make_model(
        helper.make_graph(nodes, "tiny", inputs, outputs, initializer=initializers),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    onnx.checker.check_model(model)
    return model.SerializeToString()


def write_bundle(root: Path, name: str, onnx_bytes: bytes, *, model_card: bool = True) -> dict:
    """A bundle directory per docs/ARCHITECTURE.md; returns its manifest."""
    root.mkdir(parents=True)
    sha = hashlib.sha256(onnx_bytes).hexdigest()
    file = f"model-8x8-fp32.{sha[:8]}.onnx"
    (root / file).write_bytes(onnx_bytes)
    manifest = {
        "format": "liveseg-bundle/1",
        "name": name,
        "version": "1.0.0",
        "task": "semantic-segmentation",
        "model": {"name": "tiny", "params": 608, "gflops": 0.0},
        "dataset": "camvid",
        "classes": [{"id": i, "name": f"class {i}", "color": [i * 20, 255 - i * 20, 7]} for i in range(11)],
        "ignore_index": 11,
        "normalization": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
        "input": {"name": "image", "dtype": "uint8", "layout": "NHWC", "channels": [3, 4]},
        "outputs": {
            "labels": {"name": "labels", "dtype": "uint8"},
            "confidence": {"name": "confidence", "dtype": "uint8"},
        },
        "variants": [
            {"precision": "fp32", "height": 8, "width": 8, "file": file, "bytes": len(onnx_bytes), "sha256": sha}
        ],
        "default_variant": {"precision": "fp32", "height": 8, "width": 8},
        "created": "2026-11-22T00:00:00Z",
        "liveseg_version": "0.1.0",
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    if model_card:
        (root / "MODEL_CARD.md").write_text(f"# {name}\n\nA tiny test model.\n")
    (root / "notes.txt").write_bytes(SECRET)  # in the bundle directory but not in the manifest
    return manifest


def write_static(root: Path, secret: Path) -> None:
    """A fake `npm run build` output: index.html, Vite-hashed assets, an unhashed public file."""
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(
        f'<!doctype html><html><head><script type="module" src="/{ASSETS["js"]}"></script></head>'
        "<body><h1>liveseg</h1></body></html>\n"
    )
    js = "".join(f"export const value{i} = {i} * 2; // padding so gzip applies\n" for i in range(60))
    (root / ASSETS["js"]).write_text(js)
    (root / ASSETS["map"]).write_text(json.dumps({"version": 3, "sources": ["main.ts"], "mappings": ""}))
    (root / ASSETS["mjs"]).write_text(js)
    (root / ASSETS["wasm"]).write_bytes(b"\0asm\x01\0\0\0" + bytes(range(256)) * 8)
    (root / ASSETS["svg"]).write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (root / ASSETS["favicon"]).write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    os.symlink(secret, root / ASSETS["leak"])


@pytest.fixture(scope="session")
def onnx_bytes() -> bytes:
    return tiny_onnx()


@pytest.fixture(scope="session")
def logits_onnx_bytes() -> bytes:
    return tiny_onnx("logits")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, onnx_bytes: bytes) -> dict:
    """Everything a server serves, plus things it must never serve."""
    base = tmp_path_factory.mktemp("site")
    secret = base / "secret.txt"
    secret.write_bytes(SECRET)
    manifest = write_bundle(base / "bundles" / "tiny", "tiny", onnx_bytes)
    # A bundle whose listed variant file is a symlink pointing out of the bundle directory, at a valid graph that
    # carries the secret (so that the bundle passes its checks and only the server's rules keep the file in).
    import onnx

    model = onnx.load_from_string(onnx_bytes)
    model.doc_string = SECRET.decode()
    outside = base / "secret.onnx"
    outside.write_bytes(model.SerializeToString())
    linked = write_bundle(base / "bundles" / "linked", "linked", outside.read_bytes(), model_card=False)
    variant = base / "bundles" / "linked" / linked["variants"][0]["file"]
    variant.unlink()
    os.symlink(outside, variant)
    write_static(base / "static", secret)
    variant_url = f"/models/tiny/{manifest['variants'][0]['file']}"
    return {
        "base": base,
        "static": base / "static",
        "bundles": base / "bundles",
        "secret": secret,
        "secret_bytes": SECRET,
        "manifest": manifest,
        "linked": linked,
        # URL paths by short name, so tests can parametrize over names.
        "urls": {**{k: f"/{v}" for k, v in ASSETS.items()}, "variant": variant_url},
    }


@pytest.fixture(scope="session")
def running():
    """`with running(app) as base_url:` serves the app for the block."""
    return _running


@contextlib.contextmanager
def _running(app) -> Iterator[str]:
    """Serve `app` with uvicorn on a free port in a thread; yields the base URL (no trailing slash)."""
    sock = server.bind("127.0.0.1", 0)
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        sock.close()
