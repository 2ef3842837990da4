#!/usr/bin/python3
"""torchvision peer of dev.jdetect.examples.bench.CoreBenchmark (protocol: see peer.py).

Reads the inputs the Java side generated (DIR/inputs.npz), times the same ops with --threads torch
threads and answers {"versions": "...", "ms": {op: median ms}}. Run by CoreBenchmark; usable alone
on a kept exchange folder:
    /usr/bin/python3 src/bench/core_bench.py --dir DIR --iters 20 --warmup 5
"""
import statistics
import time

import numpy as np
import torch
import torchvision
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import boxes as box_ops

import peer


def median_ms(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = peer.parser(__doc__)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    d = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in peer.load(args.dir, "inputs").items()}

    ops = []
    for n in (1000, 6000, 20000):
        b, s = d[f"nms_boxes_{n}"], d[f"nms_scores_{n}"]
        ops.append((f"nms {n // 1000}k", lambda b=b, s=s: box_ops.nms(b, s, 0.7)))
    bb, bs, bi = d["nms_boxes_6000"], d["nms_scores_6000"], d["batched_idxs"]
    ops.append(("batched_nms 6k x 20", lambda: box_ops.batched_nms(bb, bs, bi, 0.5)))
    feats = d["roi_features"]
    for k in (512, 2000):
        rois = d[f"rois_{k}"]
        ops.append(
            (
                f"roi_align {k}",
                lambda rois=rois: torchvision.ops.roi_align(
                    feats, rois, (7, 7), spatial_scale=1.0 / 16, sampling_ratio=2, aligned=False
                ),
            )
        )
    a, b2 = d["iou_a"], d["iou_b"]
    ops.append(("iou 22500x20", lambda: box_ops.box_iou(a, b2)))
    gen = AnchorGenerator(sizes=((32,), (64,), (128,), (256,), (512,)), aspect_ratios=((0.5, 1.0, 2.0),) * 5)
    images = ImageList(torch.zeros(1, 3, 800, 800), [(800, 800)])
    fmaps = [torch.zeros(1, 1, s, s) for s in (200, 100, 50, 25, 13)]

    def anchors():
        return gen(images, fmaps)

    ops.append(("anchors 800x800 fpn", anchors))
    ms = {}
    with torch.no_grad():
        for name, fn in ops:
            ms[name] = median_ms(fn, args.warmup, args.iters)
            peer.log(f"torchvision {name:<22} {ms[name]:10.3f} ms")
    peer.reply({"versions": f"torch {torch.__version__}, torchvision {torchvision.__version__}", "ms": ms})


if __name__ == "__main__":
    main()
