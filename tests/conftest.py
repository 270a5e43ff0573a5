"""Fixtures shared by every test package: the repository, the TensorFlow conversion environment, the real CamVid
copy and val pairs, a tiny CamVid set to train on, a trained CamVid bundle, a briefly trained checkpoint (trained
once per session, for every package), the `liveseg` command, a local HTTP server for downloads, and a models folder
of the tests' own."""

from __future__ import annotations

import os
import re
import shutil
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from liveseg import paths
from tests.helpers import LIVESEG

REPO_ROOT = Path(__file__).resolve().parents[1]


def _camvid_root() -> Path:
    env = os.environ.get("LIVESEG_CAMVID")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "datasets" / "camvid"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def tfjs_venv() -> Path:
    """The TensorFlow conversion environment (LIVESEG_TFJS_VENV, else the repository's .venv-bench), which
    `scripts/setup.sh --dev` creates: the TF.js tests fail, not skip, without it."""
    from liveseg import tfenv

    venv = tfenv.location(None if os.environ.get("LIVESEG_TFJS_VENV") else REPO_ROOT / tfenv.DEFAULT_VENV)
    if not tfenv.is_ready(venv):
        pytest.fail(f"{venv} lacks the TensorFlow conversion environment; run `liveseg setup-tfjs --venv {venv}`.")
    return venv


@pytest.fixture(scope="session")
def camvid_root() -> Path:
    root = _camvid_root()
    if not (root / "train").is_dir():
        pytest.fail(f"CamVid not found at {root}; set LIVESEG_CAMVID to a copy of it")
    return root


@pytest.fixture(scope="session")
def bundle_dir() -> Path:
    override = os.environ.get("LIVESEG_TEST_BUNDLE")
    root = Path(override) if override else paths.DEFAULT_BUNDLE_DIR
    if not (root / "manifest.json").is_file():
        pytest.fail(
            f"No trained bundle at {root}: the runtime and browser tests need the default CamVid bundle "
            "(src/liveseg/assets/default/) or LIVESEG_TEST_BUNDLE set to a CamVid bundle directory."
        )
    return root.absolute()


@pytest.fixture(scope="session")
def liveseg_cli() -> str:
    """The installed `liveseg` command of this interpreter's environment."""
    return LIVESEG


@pytest.fixture
def bundle_copy(bundle_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the bundle, free to damage."""
    return Path(shutil.copytree(bundle_dir, tmp_path / "bundle"))


@pytest.fixture(scope="session")
def val_pairs(camvid_root: Path) -> list[tuple[Path, Path]]:
    """Four real CamVid val (image, label) paths, spread over the split."""
    images = sorted((camvid_root / "val").iterdir())
    picked = images[:: len(images) // 4][:4]
    return [(p, camvid_root / "valannot" / f"{p.stem}.png") for p in picked]


def write_photo_tree(root: Path, val_pairs: list[tuple[Path, Path]]) -> Path:
    """root/a.jpg, root/street/b.jpg, root/street/c.png (resized) from real CamVid val, and a truncated
    root/street/cut.jpg: what the batch-segmenting tests read, skip and report."""
    (root / "street").mkdir(parents=True)
    shutil.copy(val_pairs[0][0], root / "a.jpg")
    shutil.copy(val_pairs[1][0], root / "street" / "b.jpg")
    Image.open(val_pairs[2][0]).resize((241, 180)).save(root / "street" / "c.png")
    (root / "street" / "cut.jpg").write_bytes(val_pairs[3][0].read_bytes()[:2000])
    return root


@pytest.fixture
def photo_tree(tmp_path: Path, val_pairs) -> Callable[[str], Path]:
    """`photo_tree(name)` writes `write_photo_tree` under tmp_path/name."""
    return lambda name: write_photo_tree(tmp_path / name, val_pairs)


TINY_SIZE = (120, 90)  # width, height: CamVid downscaled 4x


@pytest.fixture(scope="session")
def tiny_camvid(tmp_path_factory: pytest.TempPathFactory, camvid_root: Path) -> Path:
    """Two real CamVid images at 90x120: 16 copies each for training (interleaved, so the first N hold both)
    and each once for validation; copies make an epoch several steps long without more decoding work."""
    from liveseg.data import get_dataset

    root = tmp_path_factory.mktemp("tiny_camvid")
    for sub in ("train", "trainannot", "val", "valannot"):
        (root / sub).mkdir()
    for k, (image, label) in enumerate(get_dataset("camvid", "train", root=camvid_root).pairs[:2]):
        im = Image.open(image).convert("RGB").resize(TINY_SIZE, Image.Resampling.BILINEAR)
        lab = Image.open(label).resize(TINY_SIZE, Image.Resampling.NEAREST)
        im.save(root / "val" / f"{k}.png")
        lab.save(root / "valannot" / f"{k}.png")
        for c in range(16):
            im.save(root / "train" / f"{c:02d}_{k}.png")
            lab.save(root / "trainannot" / f"{c:02d}_{k}.png")
    return root


def _small_config(root: Path, out: Path, **overrides):
    """fast_scnn on the tiny set, one thread (the test machine's cores are shared), no worker processes."""
    from liveseg.train import TrainConfig

    kw = dict(model="fast_scnn", data_root=str(root), out=str(out), batch=2, crop=(90, 120), scale=(1.0, 1.0),
              lr=5e-3, warmup_epochs=0.2, workers=0, threads=1, epochs=1, max_train_images=4)  # fmt: skip
    return TrainConfig(**{**kw, **overrides})


@pytest.fixture(scope="session")
def small_config():
    """`small_config(root, out, **overrides)`: a TrainConfig for the tiny set."""
    return _small_config


@pytest.fixture(scope="session")
def checkpoint_path(tiny_camvid: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """best.pt of a real one-epoch run (`small_config` on the tiny set), trained once per session for every test
    that needs a checkpoint; last.pt beside it holds the resume state. Copy the folder before writing to it."""
    from liveseg.train import train

    out = tmp_path_factory.mktemp("run")
    train(_small_config(tiny_camvid, out))
    return out / "best.pt"


def pytest_configure(config: pytest.Config) -> None:
    """Bundles the tests pull or import go to a folder of the session's, never the user's models folder."""
    import tempfile

    os.environ["LIVESEG_MODELS"] = tempfile.mkdtemp(prefix="liveseg-test-models-")


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    shutil.rmtree(os.environ.pop("LIVESEG_MODELS", ""), ignore_errors=True)


@dataclass
class Served:
    url: str
    root: Path
    fail: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests.append((self.path, self.headers.get("Range")))
            mode = served.fail.get(self.path)
            file = served.root / self.path.lstrip("/")
            if mode in ("404", "500") or not file.is_file():
                self.send_error(int(mode or 404))
                return
            data = file.read_bytes()
            start = 0
            if (m := re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")) and mode != "truncate":
                start = int(m[1])
                if start >= len(data):
                    self.send_error(416)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if mode == "truncate" else body)
            if mode == "truncate":
                self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def http_files(tmp_path: Path) -> Iterator[Served]:
    """A real HTTP server on 127.0.0.1 serving `tmp_path/www`: range requests, and failures on demand
    (`served.fail[path] = "404" | "500" | "truncate"`; "truncate" announces the full Content-Length, sends half
    the body and closes the connection)."""
    root = tmp_path / "www"
    root.mkdir()
    served = Served(url="", root=root)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()


class _EfficientAttention(nn.Module):
    """SegFormer's self-attention: keys and values come from the tokens reduced by a strided convolution. Shapes
    are read from the tensors (as Hugging Face's code does), so that a traced export keeps batch and size dynamic."""

    def __init__(self, dim: int, heads: int = 2, reduction: int = 2) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.q, self.kv, self.proj = nn.Linear(dim, dim), nn.Linear(dim, 2 * dim), nn.Linear(dim, dim)
        self.reduce = nn.Conv2d(dim, dim, reduction, reduction)
        self.norm = nn.LayerNorm(dim)

    def forward(self, t: torch.Tensor, h: int, w: int) -> torch.Tensor:
        n, _, c = t.shape
        q = self.q(t).view(n, -1, self.heads, self.head_dim).transpose(1, 2)
        r = self.norm(self.reduce(t.transpose(1, 2).reshape(n, c, h, w)).flatten(2).transpose(1, 2))
        k, v = self.kv(r).view(n, -1, 2, self.heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        a = (q @ k.transpose(-2, -1) * self.head_dim**-0.5).softmax(-1)
        return self.proj((a @ v).transpose(1, 2).reshape(n, -1, c))


class TinyTransformerSeg(nn.Module):
    """Strided conv patches, one efficient self-attention block with LayerNorm and GELU, a 1x1 classifier at 1/4:
    the operators of a SegFormer export, at a size a test can afford."""

    def __init__(self, classes: int = 5, dim: int = 16) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 7, 4, 3)
        self.norm = nn.LayerNorm(dim)
        self.attn = _EfficientAttention(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.head = nn.Conv2d(dim, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.patch(x)
        n, c, h, w = f.shape
        t = self.norm(f.flatten(2).transpose(1, 2))
        t = t + self.attn(t, h, w)
        t = t + self.mlp(t)
        return self.head(t.transpose(1, 2).reshape(n, c, h, w))


# As Optimum exports Hugging Face vision models (the SegFormer files `liveseg pull` fetches): the TorchScript
# exporter at opset 14, every input axis named, the channel axis included.
OPTIMUM_OPSET = 14
OPTIMUM_AXES = {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"}
# The logits' axes are named like the image's, although they are 1/4 of its size.
LOGITS_AXES = {
    "nchw": {0: "batch_size", 1: "num_labels", 2: "height", 3: "width"},
    "nhwc": {0: "batch_size", 1: "height", 2: "width", 3: "num_labels"},
}


def _make_onnx(path: Path, layout: str = "nchw", classes: int = 5, seed: int = 0) -> Path:
    """The network exported as Optimum does: float N×3×H×W in, logits out, with named dynamic axes."""
    torch.manual_seed(seed)
    net = TinyTransformerSeg(classes).eval()
    model = net if layout == "nchw" else nn.Sequential(net, _ToNHWC())
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter is deprecated, not gone
        torch.onnx.export(
            model,
            (torch.zeros(1, 3, 64, 96),),
            str(path),
            input_names=["pixel_values"],
            output_names=["logits"],
            dynamic_axes={"pixel_values": OPTIMUM_AXES, "logits": LOGITS_AXES[layout]},
            opset_version=OPTIMUM_OPSET,
            dynamo=False,
        )
    return path


class _ToNHWC(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1)


@pytest.fixture(scope="session")
def make_onnx(tmp_path_factory: pytest.TempPathFactory):
    """`make_onnx(path, layout="nchw", classes=5, seed=0)`: a small transformer segmenter exported to ONNX as
    Optimum exports one (normalised float N×3×H×W in with named axes, 1/4-resolution logits out, opset 14), for
    import and pull tests.
    Each kind is exported once per session (the exporter takes seconds) and copied to `path`."""
    import shutil

    made: dict[tuple, Path] = {}
    store = tmp_path_factory.mktemp("onnx-made")

    def make(path: Path, layout: str = "nchw", classes: int = 5, seed: int = 0) -> Path:
        key = (layout, classes, seed)
        if key not in made:
            made[key] = _make_onnx(store / f"{layout}-{classes}-{seed}.onnx", layout, classes, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made[key], path)
        return path

    return make


_NMS_SCHEMA = "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"
# The builders' options that give the pretrained files' keys: only DeepLabV3's file has `aux_classifier.*`.
_TORCHVISION_KWARGS = {"lraspp_mobilenet_v3_large": {}, "deeplabv3_mobilenet_v3_large": {"aux_loss": True}}


def _import_torchvision():
    """torchvision, importable whether or not its C extension loaded.

    The PyPI wheel is a CUDA build whose C extension does not load against the CPU torch used here, so the
    `torchvision::nms`/`qnms` operators are never defined and `import torchvision` fails ("operator torchvision::nms
    does not exist": its `_meta_registrations` registers fakes for them unconditionally). The segmentation builders
    are pure Python, so defining the two schemas (no kernels) is enough. The product never imports torchvision.
    """
    for op in ("nms", "qnms"):
        if not hasattr(torch.ops.torchvision, op):
            torch.library.define(f"torchvision::{op}", _NMS_SCHEMA)
    import torchvision

    return torchvision


@torch.no_grad()
def _randomise(net: nn.Module, seed: int) -> None:
    """Random BatchNorm statistics and affine parameters, and random convs at a scale (1.5 / fan-in) that leaves
    logits of a few units varying across the image: torchvision's default init gives near-constant logits, too
    weak a test, and He scale (2 / fan-in) compounds to logits in the thousands."""
    gen = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.weight[0].numel()
            m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (1.5 / fan_in) ** 0.5)
            if m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.copy_(torch.randn(n, generator=gen) * 0.2)
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)


def _torchvision_model(name: str, seed: int = 0) -> nn.Module:
    torchvision = _import_torchvision()
    torch.manual_seed(seed)
    net = getattr(torchvision.models.segmentation, name)(
        weights=None, weights_backbone=None, num_classes=21, **_TORCHVISION_KWARGS[name]
    )
    _randomise(net, seed)
    return net.eval()


@pytest.fixture(scope="session")
def torchvision_model():
    """`torchvision_model(name, seed=0)`: torchvision's own segmentation model (as its pretrained VOC files are
    built: 21 classes, DeepLabV3 with its aux head), no download, every weight and BatchNorm statistic random."""
    return _torchvision_model


def _style_onnx(path: Path, size: int = 32) -> Path:
    """An image-to-image ONNX network shaped like the fast-neural-style models (float NCHW 0..255 in and out, fixed
    size): one 3x3 convolution that mixes the colour channels."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(0).normal(0, 0.2, (3, 3, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input1", "w"], ["output1"], pads=[1, 1, 1, 1])],
        "style",
        [helper.make_tensor_value_info("input1", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output1", TensorProto.FLOAT, [1, 3, size, size])],
        [numpy_helper.from_array(weight, "w")],
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # IR version 8: onnxruntime-web reads only IR versions up to its own release's.
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), path)
    return path


@pytest.fixture(scope="session")
def style_onnx():
    """`style_onnx(path, size=32)`: a small effect model in the form of the ONNX Model Zoo's style transfer."""
    return _style_onnx


def _sideways_video(path: Path, rotation: int, times_ms: list[int]) -> Path:
    """A 64x32 (WxH) H.264 mp4 stored sideways with a display matrix of `rotation` degrees (counter-clockwise, as
    phones write them), red in the stored top-left quarter, each frame at its time in `times_ms`."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.set_display_rotation(rotation)
        for time in times_ms:
            rgb = np.zeros((32, 64, 3), np.uint8)
            rgb[:16, :32] = (255, 0, 0)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = time, Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.fixture(scope="session")
def sideways_video():
    """`sideways_video(path, rotation=-90, times_ms=(0, 33, 100, 500, 533))`: a phone-style video, see above."""
    return lambda path, rotation=-90, times_ms=(0, 33, 100, 500, 533): _sideways_video(path, rotation, list(times_ms))
