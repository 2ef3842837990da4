#!/usr/bin/python3
"""torchvision side of the SSD benchmark (see SsdBenchmark.java; protocol: see peer.py).

Models (--model): ssd300 = torchvision's ssd300_vgg16; ssdlite = torchvision's SSD class with
SSDlite320 settings (SSDLiteHead, ratios [2, 3] x 6, scales 0.2..0.95, 320x320, mean/std 0.5,
score 0.001, NMS 0.55, top-k 300, 300 detections) on a full-width MobileNetV2, the extractor built
the way SSDLiteFeatureExtractorMobileNet builds it for MobileNetV3 (C4 = the expansion layer of the
last strided block), i.e. the same network as jdetect's SsdLite.mobileNetV2.

Measures, with random weights (torchvision's own init), 91 classes incl. background:
  eval      full model eval, batch 1, an image of the model size in [0, 1] (transform + backbone +
            head + default boxes + post-processing)
  backbone  model.backbone on an already normalised batch of 1
  split     per stage of eval: transform, backbone, head, anchors, postprocess (each timed alone)
  train     (ssd300 only) one SGD step (forward with targets, backward, optimizer.step,
            zero_grad), batch 4

Answers one JSON object: {"eval_ms": median, "backbone_ms": median, "split_ms": {...},
"train_ms": median, ...}. Exchanges no arrays (each side times its own random image).

    /usr/bin/python3 src/bench/ssd_bench.py --dir /tmp --model ssd300 --warmup 2 --iters 10
"""
import statistics
import time
from collections import OrderedDict

from functools import partial

import torch
from torch import nn
from torchvision.models import mobilenet_v2
from torchvision.models.detection import ssd300_vgg16
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.ssd import SSD
from torchvision.models.detection.ssdlite import SSDLiteHead, _extra_block, _normal_init

import peer


class MobileNetV2Extractor(nn.Module):
    """SSDlite sources on MobileNetV2: C4 expansion output, the end of the trunk, 4 extras."""

    def __init__(self, trunk, c4, norm_layer):
        super().__init__()
        self.features = nn.Sequential(
            nn.Sequential(*trunk[:c4], trunk[c4].conv[0]),
            nn.Sequential(trunk[c4].conv[1:], *trunk[c4 + 1:]),
        )
        self.extra = nn.ModuleList(
            [
                _extra_block(trunk[-1].out_channels, 512, norm_layer),
                _extra_block(512, 256, norm_layer),
                _extra_block(256, 256, norm_layer),
                _extra_block(256, 128, norm_layer),
            ]
        )
        _normal_init(self.extra)

    def forward(self, x):
        out = []
        for block in self.features:
            x = block(x)
            out.append(x)
        for block in self.extra:
            x = block(x)
            out.append(x)
        return {str(i): v for i, v in enumerate(out)}


def ssdlite_mobilenet_v2(num_classes):
    norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.03)
    trunk = mobilenet_v2(norm_layer=norm).features
    # last stride-2 block (the 160-channel stage start): its expansion layer is C4
    c4 = [i for i, b in enumerate(trunk) if getattr(b, "stride", 1) == 2][-1]
    backbone = MobileNetV2Extractor(trunk, c4, norm)
    anchors = DefaultBoxGenerator([[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95)
    with torch.no_grad():
        backbone.eval()
        channels = [t.shape[1] for t in backbone(torch.zeros(1, 3, 320, 320)).values()]
    head = SSDLiteHead(channels, anchors.num_anchors_per_location(), num_classes, norm)
    return SSD(
        backbone,
        anchors,
        (320, 320),
        num_classes,
        head=head,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
        score_thresh=0.001,
        nms_thresh=0.55,
        detections_per_img=300,
        topk_candidates=300,
    )


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times), times


def main():
    p = peer.parser(__doc__)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--train-iters", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-train", action="store_true")
    p.add_argument("--model", choices=["ssd300", "ssdlite"], default="ssd300")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.model == "ssd300":
        model = ssd300_vgg16(weights=None, weights_backbone=None, num_classes=91)
        size = 300
    else:
        model = ssdlite_mobilenet_v2(91)
        size = 320
    image = torch.rand(3, size, size)

    model.eval()
    with torch.no_grad():
        x, _ = model.transform([image])
        feats = list(model.backbone(x.tensors).values())
        head = model.head(feats)
        anchors = model.anchor_generator(x, feats)

        def post():
            d = model.postprocess_detections(head, anchors, x.image_sizes)
            return model.transform.postprocess(d, x.image_sizes, [(size, size)])

        # one round times every measurement once; rounds repeat (see SsdBenchmark)
        bodies = OrderedDict(
            eval=lambda: model([image]),
            transform=lambda: model.transform([image]),
            backbone=lambda: model.backbone(x.tensors),
            head=lambda: model.head(feats),
            anchors=lambda: model.anchor_generator(x, feats),
            postprocess=post,
        )
        times = {k: [] for k in bodies}
        for i in range(-a.warmup, a.iters):
            for k, fn in bodies.items():
                t0 = time.perf_counter()
                fn()
                if i >= 0:
                    times[k].append((time.perf_counter() - t0) * 1000.0)
        eval_ms = statistics.median(times["eval"])
        eval_all = times["eval"]
        backbone_ms = statistics.median(times["backbone"])
        split = {k: statistics.median(v) for k, v in times.items() if k != "eval"}
        detections = len(model([image])[0]["boxes"])

    out = {
        "model": a.model,
        "eval_ms": eval_ms,
        "backbone_ms": backbone_ms,
        "split_ms": split,
        "eval_all_ms": eval_all,
        "detections": detections,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }

    if not a.no_train and a.model == "ssd300":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
        images = [torch.rand(3, 300, 300) for _ in range(4)]
        targets = []
        g = torch.Generator().manual_seed(1)
        for i in range(4):
            n = 1 + i % 3
            xy = torch.rand(n, 2, generator=g) * 200
            wh = 20 + torch.rand(n, 2, generator=g) * 80
            targets.append(
                {"boxes": torch.cat([xy, xy + wh], 1), "labels": torch.randint(1, 91, (n,), generator=g)}
            )

        def step():
            losses = model(images, targets)
            loss = sum(losses.values())
            opt.zero_grad()
            loss.backward()
            opt.step()

        out["train_ms"], _ = timed(step, min(a.warmup, 1), a.train_iters)

    peer.reply(out)


if __name__ == "__main__":
    main()
