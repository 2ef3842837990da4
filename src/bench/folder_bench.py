"""Folder throughput of torchvision's detectors, the peer of dev.jdetect.examples.bench.FolderBenchmark.

Runs the loop a user runs over a folder of photos: decode each JPEG with PIL, ``to_tensor``,
``model([image])`` under ``torch.no_grad()``, and write the detections as JSON, one file per image.
The weights are jdetect's ``model.safetensors`` (torchvision's tensor names), so both sides run the
same network with the same weights. Answers ``{"images_per_s": ..., "seconds": [...],
"peak_rss_mb": ...}``: the median over ``--iters`` passes over the folder after ``--warmup`` untimed
passes over its first images, and this process's peak resident set.
"""

import glob
import json
import os
import resource
import statistics
import time

import numpy as np
import torch
from PIL import Image
from torchvision.models.detection import ssd300_vgg16
from torchvision.transforms.functional import to_tensor

import peer
import rcnn_bench

DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}


def read_safetensors(path):
    """The tensors of a safetensors file by name (the format needs no library to read)."""
    with open(path, "rb") as f:
        length = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


def build(name):
    """torchvision's counterpart of a jdetect zoo name, and the renaming of jdetect's tensor names."""
    if name == "ssd300-vgg16":
        return ssd300_vgg16(weights=None, weights_backbone=None, num_classes=91), lambda k: k
    if name == "faster-rcnn-mobilenetv2":
        model, _ = rcnn_bench.mobilenet_v2()
        # jdetect's MobileNetV2 holds the layers as its child "features", torchvision's bare Sequential
        return model, lambda k: k.replace("backbone.features.", "backbone.", 1)
    raise SystemExit("no torchvision counterpart for " + name)


def load(model, rename, path):
    state = {rename(k): v for k, v in read_safetensors(path).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit("weights do not fit: missing %s, unexpected %s" % (missing, unexpected))


def detect_folder(model, files, out_dir):
    for f in files:
        with Image.open(f) as im:
            image = to_tensor(im.convert("RGB"))
        with torch.no_grad():
            d = model([image])[0]
        result = {
            "image": f,
            "width": image.shape[2],
            "height": image.shape[1],
            "detections": [
                {"label": int(l), "score": float(s), "box_pixels_xyxy": [float(v) for v in b]}
                for b, s, l in zip(d["boxes"], d["scores"], d["labels"])
            ],
        }
        with open(os.path.join(out_dir, os.path.basename(f) + ".json"), "w") as out:
            json.dump(result, out)


def main():
    p = peer.parser(__doc__)
    p.add_argument("--model", required=True, choices=["ssd300-vgg16", "faster-rcnn-mobilenetv2"])
    p.add_argument("--weights", required=True, help="jdetect's model.safetensors")
    p.add_argument("--images", required=True, help="folder of .jpg files")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model, rename = build(a.model)
    load(model, rename, a.weights)
    model.eval()
    files = sorted(glob.glob(os.path.join(a.images, "*.jpg")))
    out_dir = os.path.join(a.dir, "torchvision-" + a.model)
    os.makedirs(out_dir, exist_ok=True)
    for _ in range(a.warmup):
        detect_folder(model, files[:2], out_dir)
    seconds = []
    for _ in range(a.iters):
        start = time.perf_counter()
        detect_folder(model, files, out_dir)
        seconds.append(time.perf_counter() - start)
    peer.log("%s: %d images, passes of %s s" % (a.model, len(files), ["%.2f" % s for s in seconds]))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux
    peer.reply(
        {
            "images_per_s": len(files) / statistics.median(seconds),
            "seconds": seconds,
            "peak_rss_mb": peak_mb,
        }
    )


if __name__ == "__main__":
    main()
