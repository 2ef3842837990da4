#!/usr/bin/python3
"""torchvision peer of dev.jdetect.examples.bench.CoreBenchmark.

Reads the inputs the Java side generated (an .npz), times the same ops with torch 2 threads and
prints one line per op: RESULT<TAB>name<TAB>median_ms. Run by CoreBenchmark; usable alone:
    /usr/bin/python3 src/bench/core_bench.py --input inputs.npz --reps 20 --warmup 5
"""
import argparse
import statistics
import time

import numpy as np
import torch
import torchvision
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import boxes as box_ops


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
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(2)
    d = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in np.load(args.input).items()}
    print(f"VERSION\ttorch {torch.__version__}, torchvision {torchvision.__version__}", flush=True)

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
    with torch.no_grad():
        for name, fn in ops:
            print(f"RESULT\t{name}\t{median_ms(fn, args.warmup, args.reps):.4f}", flush=True)


if __name__ == "__main__":
    main()
