#!/usr/bin/python3
"""torchvision reference timings for FasterRcnnBenchmark (Faster R-CNN eval latency, stage split
and one training step), same configurations as jdetect's FasterRcnnModels:

* vgg16: VGG16 conv5_3, anchors 128/256/512 x 0.5/1/2, RPN 6000/300 at test time (12000/2000 in
  training), RoIPool 7x7 at 1/16, fc6/fc7 4096, 21 classes, image 600x800 (min 600 / max 1000).
* mobilenet_v2: MobileNetV2 features, anchors 32..512 x 0.5/1/2, torchvision RPN defaults,
  MultiScaleRoIAlign 7x7 sampling 2, TwoMLPHead 1024, 91 classes, image 800x800.

Random weights (timing only). Medians over --iters runs. Prints one JSON object per
configuration on stdout, e.g.

    /usr/bin/python3 src/bench/rcnn_bench.py --warmup 1 --iters 3 --threads 2 --train

Debian's torch uses reference BLAS; install libopenblas0-pthread for a fair Linear layer.
"""

import argparse
import json
import statistics
import time
from collections import OrderedDict

import torch
import torchvision
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.ops import MultiScaleRoIAlign, roi_pool


class RoIPoolWrapper(MultiScaleRoIAlign):
    def __init__(self):
        super().__init__(["0"], 7, 2)

    def forward(self, x, boxes, image_shapes):
        return roi_pool(x["0"], boxes, (7, 7), 1.0 / 16)


def vgg16():
    features = torchvision.models.vgg16().features[:-1]
    features.out_channels = 512
    model = FasterRCNN(
        features,
        num_classes=None,
        min_size=600,
        max_size=1000,
        rpn_anchor_generator=AnchorGenerator(((128, 256, 512),), ((0.5, 1.0, 2.0),)),
        rpn_pre_nms_top_n_train=12000,
        rpn_pre_nms_top_n_test=6000,
        rpn_post_nms_top_n_train=2000,
        rpn_post_nms_top_n_test=300,
        box_roi_pool=RoIPoolWrapper(),
        box_head=TwoMLPHead(512 * 7 * 7, 4096),
        box_predictor=FastRCNNPredictor(4096, 21),
    )
    return model, (600, 800)


def mobilenet_v2():
    features = torchvision.models.mobilenet_v2().features
    features.out_channels = 1280
    model = FasterRCNN(
        features,
        num_classes=91,
        rpn_anchor_generator=AnchorGenerator(((32, 64, 128, 256, 512),), ((0.5, 1.0, 2.0),)),
        box_roi_pool=MultiScaleRoIAlign(["0"], 7, 2),
    )
    return model, (800, 800)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - start) * 1000.0


def split_once(model, image):
    """One eval pass by stages; returns milliseconds per stage."""
    t = OrderedDict()
    (image_list, _), t["transform"] = timed(lambda: model.transform([image]))
    features, t["backbone"] = timed(lambda: model.backbone(image_list.tensors))
    if isinstance(features, torch.Tensor):
        features = OrderedDict([("0", features)])
    (proposals, _), t["rpn"] = timed(lambda: model.rpn(image_list, features))
    heads = model.roi_heads
    pooled, t["roi_pooling"] = timed(lambda: heads.box_roi_pool(features, proposals, image_list.image_sizes))
    (logits, deltas), t["box_head"] = timed(lambda: heads.box_predictor(heads.box_head(pooled)))

    def post():
        boxes, scores, labels = heads.postprocess_detections(logits, deltas, proposals, image_list.image_sizes)
        result = [{"boxes": b, "scores": s, "labels": l} for b, s, l in zip(boxes, scores, labels)]
        return model.transform.postprocess(result, image_list.image_sizes, [image.shape[-2:]])

    _, t["postprocess"] = timed(post)
    return t


def bench(name, builder, warmup, iters, train):
    torch.manual_seed(0)
    model, (h, w) = builder()
    model.eval()
    image = torch.rand(3, h, w)
    res = OrderedDict(config=name, height=h, width=w)
    with torch.no_grad():
        for _ in range(warmup):
            model([image])
        evals = [timed(lambda: model([image]))[1] for _ in range(iters)]
        res["eval_ms"] = statistics.median(evals)
        runs = [split_once(model, image) for _ in range(iters)]
        res["split_ms"] = OrderedDict((k, statistics.median(r[k] for r in runs)) for k in runs[0])
    if train:
        model.train()
        targets = [
            {
                "boxes": torch.tensor([[50.0, 60.0, 300.0, 400.0], [320.0, 100.0, 600.0, 500.0]]),
                "labels": torch.tensor([1, 2]),
            }
        ]
        opt = torch.optim.SGD(model.parameters(), lr=1e-4)

        def step():
            opt.zero_grad()
            losses = model([image], targets)
            sum(losses.values()).backward()
            opt.step()

        for _ in range(min(warmup, 1)):
            step()
        res["train_step_ms"] = statistics.median(timed(step)[1] for _ in range(iters))
    return res


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--config", default="all", choices=["all", "vgg16", "mobilenet_v2"])
    p.add_argument("--train", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    configs = [("vgg16", vgg16), ("mobilenet_v2", mobilenet_v2)]
    for name, builder in configs:
        if a.config in ("all", name):
            print(json.dumps(bench(name, builder, a.warmup, a.iters, a.train)), flush=True)


if __name__ == "__main__":
    main()
