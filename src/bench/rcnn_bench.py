#!/usr/bin/python3
"""torchvision reference timings for FasterRcnnBenchmark (Faster R-CNN eval latency, stage split
and one training step; protocol: see peer.py), same configurations as jdetect's FasterRcnnModels:

* vgg16: VGG16 conv5_3 and the original paper's RPN as jdetect builds it
  (RegionProposalNetwork.classicBuilder()): 2-way softmax objectness (2A logits per location:
  A background then A object logits), the classic anchors 128/256/512 x 0.5/1/2 (not rounded,
  centred at 16 * (i + 0.5)), RPN 6000/300 at test time (12000/2000 in training), minimum
  proposal size 16; RoIPool 7x7 at 1/16, fc6/fc7 4096, 21 classes, image 600x800 (min 600 / max
  1000). torchvision has no softmax RPN: the head's logits are turned into the object-minus-
  background logit, whose sigmoid is the 2-way softmax probability (and whose binary cross-entropy
  is the 2-way cross-entropy).
* mobilenet_v2: MobileNetV2 features, anchors 32..512 x 0.5/1/2, torchvision RPN defaults,
  MultiScaleRoIAlign 7x7 sampling 2, TwoMLPHead 1024, 91 classes, image 800x800.

Three modes, DIR being the exchange folder (--dir):

* timing with random weights (default): torch.manual_seed(0), the model, then a random image;
* ``--export``: builds every requested configuration exactly as the timing mode does and writes
  ``DIR/<config>.npz`` (its full state_dict, float32, torchvision names, without
  ``num_batches_tracked``) and ``DIR/<config>_image.npz`` (array ``image``, (3, H, W) float32 in
  [0, 1)), then exits without timing;
* timing with ``--weights``: loads those files instead of random ones, and after timing writes
  one pass's stage outputs to ``DIR/<config>_peer.npz`` (``batch`` transformed images, ``features``,
  ``proposals``, ``proposal_scores``, ``class_logits``, ``box_regression``, ``boxes``, ``scores``,
  ``labels``) so that FasterRcnnBenchmark can check that both sides compute the same thing.

Medians over --iters runs. Answers {"configs": [one object per configuration]} (with the numbers
of proposals after the RPN and of final detections for the image), e.g.

    /usr/bin/python3 src/bench/rcnn_bench.py --dir /tmp --warmup 1 --iters 3 --threads 2 --train

Debian's torch uses reference BLAS; install libopenblas0-pthread for a fair Linear layer.
"""

import statistics
import time
from collections import OrderedDict

import numpy as np
import torch
import torchvision
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.rpn import RPNHead
from torchvision.ops import MultiScaleRoIAlign, roi_pool

import peer


class RoIPoolWrapper(MultiScaleRoIAlign):
    def __init__(self):
        super().__init__(["0"], 7, 2)

    def forward(self, x, boxes, image_shapes):
        return roi_pool(x["0"], boxes, (7, 7), 1.0 / 16)


class SoftmaxRPNHead(RPNHead):
    """RPN head with 2 logits per anchor (A background channels, then A object channels), as
    jdetect's RpnHead with two logits per anchor. Returns the object-minus-background logit per
    anchor: its sigmoid is the softmax probability of "object", so torchvision's RPN ranks,
    scores and (in training) computes the 2-way cross-entropy exactly as the softmax RPN does."""

    def __init__(self, in_channels, num_anchors):
        super().__init__(in_channels, num_anchors)
        self.cls_logits = nn.Conv2d(in_channels, 2 * num_anchors, kernel_size=1, stride=1)
        torch.nn.init.normal_(self.cls_logits.weight, std=0.01)
        torch.nn.init.constant_(self.cls_logits.bias, 0)

    def forward(self, x):
        logits, bbox_reg = super().forward(x)
        out = []
        for t in logits:
            a = t.shape[1] // 2
            out.append(t[:, a:] - t[:, :a])
        return out, bbox_reg


def classic_anchors(sizes, ratios, stride):
    """The classic anchor generator of jdetect (AnchorGenerator.classic()): torchvision's base
    anchors without rounding, centred at stride * (i + 0.5) instead of stride * i."""
    gen = AnchorGenerator((sizes,), (ratios,))
    scales = torch.as_tensor(sizes, dtype=torch.float32)
    aspect = torch.as_tensor(ratios, dtype=torch.float32)
    h_ratios = torch.sqrt(aspect)
    w_ratios = 1 / h_ratios
    ws = (w_ratios[:, None] * scales[None, :]).view(-1)
    hs = (h_ratios[:, None] * scales[None, :]).view(-1)
    base = torch.stack([-ws, -hs, ws, hs], dim=1) / 2
    gen.cell_anchors = [base + stride / 2.0]
    return gen


def vgg16():
    features = torchvision.models.vgg16().features[:-1]
    features.out_channels = 512
    model = FasterRCNN(
        features,
        num_classes=None,
        min_size=600,
        max_size=1000,
        rpn_anchor_generator=classic_anchors((128.0, 256.0, 512.0), (0.5, 1.0, 2.0), 16),
        rpn_head=SoftmaxRPNHead(512, 9),
        rpn_pre_nms_top_n_train=12000,
        rpn_pre_nms_top_n_test=6000,
        rpn_post_nms_top_n_train=2000,
        rpn_post_nms_top_n_test=300,
        box_roi_pool=RoIPoolWrapper(),
        box_head=TwoMLPHead(512 * 7 * 7, 4096),
        box_predictor=FastRCNNPredictor(4096, 21),
    )
    # the paper's minimum proposal side, in pixels of the image as given (scale 1 at 600x800)
    model.rpn.min_size = 16.0
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


CONFIGS = [("vgg16", vgg16), ("mobilenet_v2", mobilenet_v2)]


def build(builder):
    """The model and image of the timing mode: seed 0, the model, then a random image."""
    torch.manual_seed(0)
    model, (h, w) = builder()
    calibrate_batch_norm(model, h, w)
    model.eval()
    image = torch.rand(3, h, w)
    return model, image


def calibrate_batch_norm(model, h, w):
    """Sets every BatchNorm's running statistics to those of one random batch.

    Freshly initialised MobileNetV2 in eval mode (running mean 0, variance 1) shrinks its features
    to ~1e-8: every anchor then scores 0.5 and no class passes the score threshold, so neither the
    RPN's ranking nor the detection post-processing would be exercised. Calibrated statistics give
    unit-scale features, as a trained backbone has."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not norms:
        return
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average: one batch sets the statistics
    model.backbone.train()
    with torch.no_grad():
        batch, _ = model.transform([torch.rand(3, h, w), torch.rand(3, h, w)])
        model.backbone(batch.tensors)
    for m in norms:
        m.momentum = 0.1


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - start) * 1000.0


def split_once(model, image, capture=None):
    """One eval pass by stages; returns milliseconds per stage. With a dict ``capture``, also
    stores every stage's output in it (numpy arrays)."""
    t = OrderedDict()
    rpn_scores = []
    if capture is not None:
        original = model.rpn.filter_proposals

        def filter_and_keep(*args, **kwargs):
            out = original(*args, **kwargs)
            rpn_scores.append(out[1])
            return out

        model.rpn.filter_proposals = filter_and_keep
    try:
        (image_list, _), t["transform"] = timed(lambda: model.transform([image]))
        features, t["backbone"] = timed(lambda: model.backbone(image_list.tensors))
        if isinstance(features, torch.Tensor):
            features = OrderedDict([("0", features)])
        (proposals, _), t["rpn"] = timed(lambda: model.rpn(image_list, features))
    finally:
        if capture is not None:
            del model.rpn.filter_proposals
    heads = model.roi_heads
    pooled, t["roi_pooling"] = timed(lambda: heads.box_roi_pool(features, proposals, image_list.image_sizes))
    (logits, deltas), t["box_head"] = timed(lambda: heads.box_predictor(heads.box_head(pooled)))

    def post():
        boxes, scores, labels = heads.postprocess_detections(logits, deltas, proposals, image_list.image_sizes)
        result = [{"boxes": b, "scores": s, "labels": l} for b, s, l in zip(boxes, scores, labels)]
        return model.transform.postprocess(result, image_list.image_sizes, [image.shape[-2:]])

    detections, t["postprocess"] = timed(post)
    if capture is not None:
        capture["batch"] = image_list.tensors[0].numpy()
        capture["features"] = features["0"][0].numpy()
        capture["proposals"] = proposals[0].numpy()
        capture["proposal_scores"] = rpn_scores[0][0].numpy()
        capture["class_logits"] = logits.numpy()
        capture["box_regression"] = deltas.numpy()
        capture["boxes"] = detections[0]["boxes"].numpy()
        capture["scores"] = detections[0]["scores"].numpy()
        capture["labels"] = detections[0]["labels"].numpy().astype(np.int64)
    return t


def export(directory, name, builder):
    model, image = build(builder)
    state = OrderedDict(
        (k, v.detach().numpy().astype(np.float32))
        for k, v in model.state_dict().items()
        if not k.endswith("num_batches_tracked")
    )
    peer.save(directory, name, state)
    peer.save(directory, name + "_image", {"image": image.numpy().astype(np.float32)})
    return OrderedDict(
        config=name,
        exported=peer.path(directory, name),
        image=peer.path(directory, name + "_image"),
        tensors=len(state),
        parameters=int(sum(v.size for v in state.values())),
        height=int(image.shape[1]),
        width=int(image.shape[2]),
    )


def load(directory, name, builder):
    """The timing mode's model with the exported weights and image (strict: every name used)."""
    model, _ = build(builder)
    state = OrderedDict((k, torch.from_numpy(v)) for k, v in peer.load(directory, name).items())
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise SystemExit(f"{name}: state dict mismatch: missing {missing}, unexpected {result.unexpected_keys}")
    model.eval()
    image = torch.from_numpy(peer.load(directory, name + "_image")["image"].astype(np.float32))
    return model, image


def bench(name, builder, warmup, iters, train, weights):
    if weights is None:
        model, image = build(builder)
    else:
        model, image = load(weights, name, builder)
    h, w = int(image.shape[1]), int(image.shape[2])
    res = OrderedDict(config=name, height=h, width=w, weights="shared" if weights else "random")
    with torch.no_grad():
        for _ in range(warmup):
            model([image])
        evals = [timed(lambda: model([image]))[1] for _ in range(iters)]
        res["eval_ms"] = statistics.median(evals)
        runs = [split_once(model, image) for _ in range(iters)]
        res["split_ms"] = OrderedDict((k, statistics.median(r[k] for r in runs)) for k in runs[0])
        capture = {}
        split_once(model, image, capture)
        res["proposals"] = int(capture["proposals"].shape[0])
        res["detections"] = int(capture["boxes"].shape[0])
        if weights is not None:
            peer.save(weights, name + "_peer", capture)
            res["outputs"] = peer.path(weights, name + "_peer")
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
    p = peer.parser(__doc__)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--config", default="all", choices=["all", "vgg16", "mobilenet_v2"])
    p.add_argument("--train", action="store_true")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--export", action="store_true", help="write <config>.npz and <config>_image.npz, no timing")
    g.add_argument("--weights", action="store_true", help="time with the weights and image exported to DIR")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    configs = []
    for name, builder in CONFIGS:
        if a.config in ("all", name):
            if a.export:
                res = export(a.dir, name, builder)
            else:
                res = bench(name, builder, a.warmup, a.iters, a.train, a.dir if a.weights else None)
            peer.log(res)
            configs.append(res)
    peer.reply({"configs": configs})


if __name__ == "__main__":
    main()
