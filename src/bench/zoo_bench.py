#!/usr/bin/python3
"""torchvision reference for ZooBenchmark: torchvision's detection builders, end to end, against
jdetect's rebuilds of them (protocol: see peer.py).

Every model is check_torchvision_fullsize.py's seeded model (random weights made to produce
detections), with the backbone's batch norms frozen (torchvision.ops.FrozenBatchNorm2d, as the
builders make them whenever pretrained weights are loaded) except SSDlite's, and, for the ResNet-50
models, conv1 and layer1 frozen (trainable_backbone_layers=3, the builders' default for pretrained
weights).

Two modes, DIR being the exchange folder (--dir):

* ``--export``: writes ``DIR/<model>.pth`` (the state_dict, torch.save) for every --model and
  ``DIR/images.npz`` (arrays ``photo`` and ``second``: (3, H, W) float32 RGB in [0, 1] of the
  skimage photo --photo and of the other one; the training step's batch is both), then exits;
* timing (default): loads ``DIR/<model>.pth``, times eval end to end (median of --iters after
  --warmup, torch.no_grad, --threads threads), optionally again with oneDNN off
  (``--also-without-mkldnn``), the stage split of fasterrcnn_resnet50_fpn (transform, backbone,
  fpn, rpn, roi, box_head, post) or of a dense model (features = transform + backbone + anchors,
  head, post = per-level top-k, decode, batched NMS, rescaling), with ``--train`` one SGD step on
  the batch of both photos (with oneDNN and, under --also-without-mkldnn, without it), and writes
  one pass's detections to ``DIR/<model>_peer.npz`` (boxes, scores, labels).

Answers {"models": [one object per model]}, e.g.

    /usr/bin/python3 src/bench/zoo_bench.py --dir /tmp/zb --export --model ssdlite320_mobilenet_v3_large
    /usr/bin/python3 src/bench/zoo_bench.py --dir /tmp/zb --model ssdlite320_mobilenet_v3_large --iters 1
"""

import os
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image
from torchvision.ops import FrozenBatchNorm2d
from torchvision.transforms.functional import to_tensor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import check_torchvision_fullsize as tvcheck  # noqa: E402

import peer  # noqa: E402

MODELS = [
    "fasterrcnn_resnet50_fpn",
    "fasterrcnn_mobilenet_v3_large_320_fpn",
    "ssdlite320_mobilenet_v3_large",
    "retinanet_resnet50_fpn",
    "fcos_resnet50_fpn",
]
PHOTOS = ["astronaut", "coffee"]
# the training step's targets, in each photo's own pixels (astronaut 512x512, coffee 400x600)
TARGETS = {
    "astronaut": ([[50, 60, 300, 400], [320, 100, 500, 480]], [1, 2]),
    "coffee": ([[100, 50, 400, 350]], [3]),
}
LR = 1e-4


def photo(name):
    return to_tensor(Image.open(os.path.join(tvcheck.photo_dir(), name + ".png")).convert("RGB"))


def photo_names(first):
    """The photo and the other one, the training batch's order."""
    return [first] + [x for x in PHOTOS if x != first]


def freeze_norms(module):
    """Replaces every nn.BatchNorm2d under ``module`` by a FrozenBatchNorm2d with its values."""
    for child_name, child in module.named_children():
        if isinstance(child, torch.nn.BatchNorm2d):
            frozen = FrozenBatchNorm2d(child.num_features, eps=child.eps)
            frozen.weight.copy_(child.weight.detach())
            frozen.bias.copy_(child.bias.detach())
            frozen.running_mean.copy_(child.running_mean)
            frozen.running_var.copy_(child.running_var)
            setattr(module, child_name, frozen)
        else:
            freeze_norms(child)


def build(name, directory=None):
    """The seeded model (or, with ``directory``, the exported weights) as pretrained ones run."""
    model = tvcheck.seeded_model(name)
    if directory is not None:
        model.load_state_dict(torch.load(os.path.join(directory, name + ".pth")))
    if not name.startswith("ssdlite"):
        with torch.no_grad():
            freeze_norms(model.backbone.body)
    if "resnet50" in name:
        for n, p in model.backbone.body.named_parameters():
            if not n.startswith(("layer2", "layer3", "layer4")):
                p.requires_grad_(False)
    return model.eval()


def median_ms(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def rcnn_split(model, image):
    """One eval pass of a Faster R-CNN by stages; milliseconds per stage."""
    marks = [time.perf_counter()]
    images, _ = model.transform([image])
    marks.append(time.perf_counter())
    body = model.backbone.body(images.tensors)
    marks.append(time.perf_counter())
    features = model.backbone.fpn(body)
    marks.append(time.perf_counter())
    proposals, _ = model.rpn(images, features)
    marks.append(time.perf_counter())
    heads = model.roi_heads
    pooled = heads.box_roi_pool(features, proposals, images.image_sizes)
    marks.append(time.perf_counter())
    class_logits, box_regression = heads.box_predictor(heads.box_head(pooled))
    marks.append(time.perf_counter())
    boxes, scores, labels = heads.postprocess_detections(
        class_logits, box_regression, proposals, images.image_sizes)
    detections = [{"boxes": b, "scores": s, "labels": l} for b, s, l in zip(boxes, scores, labels)]
    model.transform.postprocess(detections, images.image_sizes, [tuple(image.shape[-2:])])
    marks.append(time.perf_counter())
    names = ["transform", "backbone", "fpn", "rpn", "roi", "box_head", "post"]
    return {n: (marks[i + 1] - marks[i]) * 1e3 for i, n in enumerate(names)}


def dense_split(model, image):
    """One eval pass of RetinaNet or FCOS by stages (as their forward runs them); milliseconds."""
    marks = [time.perf_counter()]
    images, _ = model.transform([image])
    features = list(model.backbone(images.tensors).values())
    anchors = model.anchor_generator(images, features)
    marks.append(time.perf_counter())
    head_outputs = model.head(features)
    marks.append(time.perf_counter())
    per_level = [x.size(2) * x.size(3) for x in features]
    # RetinaNet has A anchors per location; FCOS one point
    a = head_outputs["cls_logits"].size(1) // sum(per_level)
    per_level = [hw * a for hw in per_level]
    split = {k: list(v.split(per_level, dim=1)) for k, v in head_outputs.items()}
    split_anchors = [list(x.split(per_level)) for x in anchors]
    detections = model.postprocess_detections(split, split_anchors, images.image_sizes)
    model.transform.postprocess(detections, images.image_sizes, [tuple(image.shape[-2:])])
    marks.append(time.perf_counter())
    names = ["features", "head", "post"]
    return {n: (marks[i + 1] - marks[i]) * 1e3 for i, n in enumerate(names)}


def median_split(split, model, image, warmup, iters):
    for _ in range(warmup):
        split(model, image)
    runs = [split(model, image) for _ in range(iters)]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def train_step_ms(model, images, names, warmup, iters):
    targets = [
        {"boxes": torch.tensor(TARGETS[p][0], dtype=torch.float32),
         "labels": torch.tensor(TARGETS[p][1], dtype=torch.int64)}
        for p in names
    ]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=LR)
    model.train()

    def step():
        losses = model(images, targets)
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()

    try:
        return median_ms(step, warmup, iters)
    finally:
        model.eval()


def bench(name, a, images):
    model = build(name, a.dir)
    image = images[0]
    result = {"model": name}
    with torch.no_grad():
        d = model([image])[0]
        batch, _ = model.transform([image])
        result["height"], result["width"] = batch.image_sizes[0]
        result["detections"] = int(d["labels"].numel())
        peer.save(a.dir, name + "_peer", {
            "boxes": d["boxes"].numpy().astype(np.float32),
            "scores": d["scores"].numpy().astype(np.float32),
            "labels": d["labels"].numpy().astype(np.int64),
        })
        result["eval_ms"] = median_ms(lambda: model([image]), a.warmup, a.iters)
        split = {"fasterrcnn_resnet50_fpn": rcnn_split, "retinanet_resnet50_fpn": dense_split,
                 "fcos_resnet50_fpn": dense_split}.get(name)
        if split is not None:
            result["split_ms"] = median_split(split, model, image, a.warmup, a.iters)
        if a.also_without_mkldnn:
            with torch.backends.mkldnn.flags(enabled=False):
                result["eval_ms_no_mkldnn"] = median_ms(lambda: model([image]), a.warmup, a.iters)
                if split is not None:
                    result["split_ms_no_mkldnn"] = median_split(split, model, image, a.warmup, a.iters)
    if a.train:
        result["train_step_ms"] = train_step_ms(model, images, photo_names(a.photo), a.warmup, a.iters)
        if a.also_without_mkldnn:
            with torch.backends.mkldnn.flags(enabled=False):
                result["train_step_ms_no_mkldnn"] = train_step_ms(
                    model, images, photo_names(a.photo), a.warmup, a.iters)
    peer.log(name, result)
    return result


def main():
    p = peer.parser(__doc__)
    p.add_argument("--model", action="append", choices=MODELS,
                   help="a model to run (repeatable; default: all)")
    p.add_argument("--photo", default="coffee", choices=PHOTOS)
    p.add_argument("--export", action="store_true")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train", action="store_true")
    p.add_argument("--also-without-mkldnn", action="store_true",
                   help="also time eval (and the train step) with torch.backends.mkldnn disabled"
                        " (as jdetect runs here)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    models = a.model or MODELS
    if a.export:
        for name in models:
            torch.save(tvcheck.seeded_model(name).state_dict(), os.path.join(a.dir, name + ".pth"))
        first, second = photo_names(a.photo)
        peer.save(a.dir, "images", {"photo": photo(first).numpy(), "second": photo(second).numpy()})
        peer.reply({"exported": models, "photo": a.photo})
        return
    arrays = peer.load(a.dir, "images")
    images = [torch.from_numpy(arrays["photo"]), torch.from_numpy(arrays["second"])]
    peer.reply({"models": [bench(name, a, images) for name in models],
                "torch": torch.__version__, "mkldnn": torch.backends.mkldnn.enabled})


if __name__ == "__main__":
    main()
