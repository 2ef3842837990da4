"""The PyTorch peer of dev.jdetect.examples.bench.TrainBenchmark: D2L's TinySSD training step.

The model, multibox_target and calc_loss are the book's (src/fixtures/d2l_tinyssd.py); the step is
the book's training loop: SGD (lr 0.2, weight decay 5e-4), forward, multibox_target, calc_loss,
mean, backward, step.

Modes (the protocol is peer.py's):
  --export   build the model (torch.manual_seed(--seed)) and a random batch; write DIR/tinyssd.npz
             (the state dict without num_batches_tracked) and DIR/batch.npz (images (B, 3, S, S)
             in [0, 1], boxes (B, G, 4) in pixels, classes (B, G) in 1..C); no timing
  --weights  time steps on the exported weights and batch
  (neither)  time steps on a seeded model and batch of its own

Answer: {"torch", "phases_ms": {forward, targets, loss, backward, optimizer, bookkeeping},
"step_ms", "cpu_s", "minor_faults", "major_faults", "start_rss_mb" (medians per step),
"peak_rss_mb" (the largest per-step peak), "max_rss_mb" (the process's), "losses": the first step's [class, box]}.
"""

import os
import resource
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))

import peer  # noqa: E402
from d2l_tinyssd import D2LTinySSD, d2l_multibox_target  # noqa: E402
import torch.nn.functional as F  # noqa: E402

PHASES = ["forward", "targets", "loss", "backward", "optimizer", "bookkeeping"]


def build(num_classes, seed):
    torch.manual_seed(seed)
    return D2LTinySSD(num_classes=num_classes)


def random_batch(batch, size, num_classes, objects, seed):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(batch, 3, size, size, generator=g)
    lo = torch.rand(batch, objects, 2, generator=g) * 0.6
    wh = 0.1 + torch.rand(batch, objects, 2, generator=g) * 0.3
    boxes = torch.cat([lo, lo + wh], dim=2) * size
    classes = torch.randint(1, num_classes + 1, (batch, objects), generator=g)
    return images, boxes, classes


def d2l_labels(boxes, classes, size):
    """(B, G, 5) as the book's banana data: class (0-based), then the relative box."""
    return torch.cat([(classes - 1).float().unsqueeze(2), boxes / size], dim=2)


def proc_stat():
    """(cpu seconds, minor faults, major faults) of this process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_minflt, r.ru_majflt


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def status_mb(field):
    """A size field of /proc/self/status (VmRSS:, VmHWM:) in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def time_steps(net, images, labels, warmup, iters):
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.2, weight_decay=5e-4)
    num_classes = net.num_classes + 1
    rows, first = [], None
    for i in range(warmup + iters):
        reset_peak()
        s0 = proc_stat()
        start_rss = status_mb("VmRSS:")
        t = [time.perf_counter()]
        anchors, cls_preds, bbox_preds = net(images)
        t.append(time.perf_counter())
        bbox_labels, bbox_masks, cls_labels = d2l_multibox_target(anchors, labels)
        t.append(time.perf_counter())
        batch = cls_preds.shape[0]
        cls = F.cross_entropy(cls_preds.reshape(-1, num_classes), cls_labels.reshape(-1),
                              reduction="none").reshape(batch, -1).mean(dim=1)
        box = F.l1_loss(bbox_preds * bbox_masks, bbox_labels * bbox_masks, reduction="none").mean(dim=1)
        loss = (cls + box).mean()
        t.append(time.perf_counter())
        loss.backward()
        t.append(time.perf_counter())
        opt.step()
        opt.zero_grad()
        t.append(time.perf_counter())
        values = [float(cls.mean()), float(box.mean())]
        del anchors, cls_preds, bbox_preds, bbox_labels, bbox_masks, cls_labels, cls, box, loss
        t.append(time.perf_counter())
        s1 = proc_stat()
        if first is None:
            first = values
        if i >= warmup:
            rows.append({
                "phases": [(t[k + 1] - t[k]) * 1e3 for k in range(len(PHASES))],
                "step": (t[-1] - t[0]) * 1e3,
                "cpu": s1[0] - s0[0],
                "minflt": s1[1] - s0[1],
                "majflt": s1[2] - s0[2],
                "start_rss": start_rss,
                "peak": status_mb("VmHWM:"),
            })
    med = statistics.median
    return {
        "torch": torch.__version__,
        "phases_ms": {p: med(r["phases"][k] for r in rows) for k, p in enumerate(PHASES)},
        "step_ms": med(r["step"] for r in rows),
        "cpu_s": med(r["cpu"] for r in rows),
        "minor_faults": med(r["minflt"] for r in rows),
        "major_faults": med(r["majflt"] for r in rows),
        "start_rss_mb": med(r["start_rss"] for r in rows),
        "peak_rss_mb": max(r["peak"] for r in rows),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "losses": first,
    }


def main():
    p = peer.parser(__doc__)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--classes", type=int, default=1)
    p.add_argument("--objects", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--export", action="store_true", help="write tinyssd.npz and batch.npz, no timing")
    g.add_argument("--weights", action="store_true", help="time on the weights and batch in DIR")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    net = build(a.classes, a.seed)
    if a.weights:
        state = {k: torch.from_numpy(v) for k, v in peer.load(a.dir, "tinyssd").items()}
        result = net.load_state_dict(state, strict=False)
        assert not result.unexpected_keys, result.unexpected_keys
        missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
        assert not missing, missing
        b = peer.load(a.dir, "batch")
        images = torch.from_numpy(b["images"].astype(np.float32))
        boxes = torch.from_numpy(b["boxes"].astype(np.float32))
        classes = torch.from_numpy(b["classes"].astype(np.int64))
    else:
        images, boxes, classes = random_batch(a.batch, a.size, a.classes, a.objects, a.seed)
    if a.export:
        state = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()
                 if not k.endswith("num_batches_tracked")}
        peer.save(a.dir, "tinyssd", state)
        peer.save(a.dir, "batch", {"images": images.numpy(), "boxes": boxes.numpy(),
                                   "classes": classes.numpy()})
        peer.reply({"torch": torch.__version__, "exported": sorted(state)[:3]})
        return
    labels = d2l_labels(boxes, classes, images.shape[-1])
    res = time_steps(net, images, labels, a.warmup, a.iters)
    peer.log(res)
    peer.reply(res)


if __name__ == "__main__":
    main()
