"""The torchvision peer of TrainFasterRcnn's default run (faster-rcnn-small on generated shapes).

Trains torchvision's FasterRCNN with the same architecture and schedule as jdetect's
`SmallModels.fasterRcnnSmall` (dev.jdetect.models.zoo) + `DatasetTraining` on the VOC folder that
TrainFasterRcnn writes (`<out>/data`), and prints the validation VOC mAP@0.5 (area under the PR curve) per epoch.
It answers "does this configuration learn the shapes set at all?" independently of jdetect.

Usage: /usr/bin/python3 src/bench/rcnn_train_peer.py runs/faster-rcnn-small/data [epochs]
"""

import math
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.rpn import AnchorGenerator
from torchvision.ops import MultiScaleRoIAlign

torch.set_num_threads(2)
torch.manual_seed(1)


class SmallBackbone(nn.Module):
    """jdetect's models.zoo.SmallBackbone: stride-2 conv + conv per stage, BN + ReLU."""

    def __init__(self, channels):
        super().__init__()
        layers = []
        prev = 3
        for c in channels:
            layers += [
                nn.Conv2d(prev, c, 3, 2, 1, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU(inplace=True),
                nn.Conv2d(c, c, 3, 1, 1, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU(inplace=True),
            ]
            prev = c
        self.body = nn.Sequential(*layers)
        self.out_channels = prev

    def forward(self, x):
        return self.body(x)


def read_split(root, split, classes):
    ids = (root / "ImageSets" / "Main" / (split + ".txt")).read_text().split()
    items = []
    for i in ids:
        tree = ET.parse(root / "Annotations" / (i + ".xml"))
        boxes, labels = [], []
        for obj in tree.findall("object"):
            b = obj.find("bndbox")
            boxes.append([float(b.find(t).text) for t in ("xmin", "ymin", "xmax", "ymax")])
            labels.append(classes.index(obj.find("name").text) + 1)
        image = torchvision.io.read_image(str(root / "JPEGImages" / (i + ".jpg"))).float() / 255
        items.append((image, torch.tensor(boxes).reshape(-1, 4), torch.tensor(labels)))
    return items


def voc_ap(dets, gts, num_classes, iou=0.5):
    aps = []
    for c in range(1, num_classes + 1):
        records = []
        npos = 0
        used = []
        for img, (boxes, labels) in enumerate(gts):
            g = boxes[labels == c]
            npos += len(g)
            used.append(np.zeros(len(g), bool))
            db, ds, dl = dets[img]
            for b, s in zip(db[dl == c], ds[dl == c]):
                records.append((float(s), img, b))
        records.sort(key=lambda r: -r[0])
        tp = np.zeros(len(records))
        for k, (_, img, b) in enumerate(records):
            boxes, labels = gts[img]
            g = boxes[labels == c]
            if len(g) == 0:
                continue
            ious = torchvision.ops.box_iou(b[None], g)[0].numpy()
            j = int(ious.argmax())
            if ious[j] >= iou and not used[img][j]:
                used[img][j] = True
                tp[k] = 1
        ctp = np.cumsum(tp)
        rec = ctp / max(npos, 1)
        prec = ctp / np.arange(1, len(records) + 1)
        mrec = np.concatenate([[0], rec, [1]])
        mpre = np.concatenate([[0], prec, [0]])
        for k in range(len(mpre) - 2, -1, -1):
            mpre[k] = max(mpre[k], mpre[k + 1])
        idx = np.where(mrec[1:] != mrec[:-1])[0]
        aps.append(float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1])))
    return float(np.mean(aps))


def main():
    root = Path(sys.argv[1])
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    classes = (root / "classes.txt").read_text().split()
    train = read_split(root, "train", classes)
    val = read_split(root, "val", classes)
    backbone = SmallBackbone([32, 64, 96, 128])
    anchors = AnchorGenerator(((16, 32, 64, 128),), ((0.5, 1.0, 2.0),))
    model = FasterRCNN(
        backbone,
        num_classes=None,
        min_size=256,
        max_size=256,
        rpn_anchor_generator=anchors,
        rpn_pre_nms_top_n_train=1000,
        rpn_pre_nms_top_n_test=500,
        rpn_post_nms_top_n_train=300,
        rpn_post_nms_top_n_test=100,
        box_roi_pool=MultiScaleRoIAlign(["0"], 7, 2),
        box_head=TwoMLPHead(128 * 49, 256),
        box_predictor=FastRCNNPredictor(256, len(classes) + 1),
    )
    batch = 8
    steps = (len(train) + batch - 1) // batch
    total = steps * epochs
    warmup = min(total // 5 + 1, 500)
    base_lr = 0.01
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=base_lr, momentum=0.9, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(1)
    step = 0
    start = time.time()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train), generator=gen).tolist()
        sums = {}
        for s in range(steps):
            images, targets = [], []
            for i in order[s * batch : (s + 1) * batch]:
                image, boxes, labels = train[i]
                if torch.rand(1, generator=gen).item() < 0.5:
                    w = image.shape[-1]
                    image = image.flip(-1)
                    boxes = torch.stack([w - boxes[:, 2], boxes[:, 1], w - boxes[:, 0], boxes[:, 3]], 1)
                images.append(image)
                targets.append({"boxes": boxes, "labels": labels})
            if step < warmup:
                f = step / warmup
                lr = base_lr * (0.001 * (1 - f) + f)
            else:
                t = (step - warmup) / max(total - warmup, 1)
                lr = base_lr * 0.01 + (base_lr - base_lr * 0.01) * 0.5 * (1 + math.cos(math.pi * t))
            for g in opt.param_groups:
                g["lr"] = lr
            losses = model(images, targets)
            loss = sum(losses.values())
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 10)
            opt.step()
            step += 1
            for k, v in losses.items():
                sums[k] = sums.get(k, 0) + v.item()
        model.eval()
        dets, gts = [], []
        with torch.no_grad():
            for k in range(0, len(val), batch):
                chunk = val[k : k + batch]
                out = model([c[0] for c in chunk])
                for o, c in zip(out, chunk):
                    dets.append((o["boxes"], o["scores"].numpy(), o["labels"].numpy()))
                    gts.append((c[1], c[2].numpy()))
        m = voc_ap(dets, gts, len(classes))
        print(
            f"epoch {epoch + 1}/{epochs} "
            + " ".join(f"{k} {v / steps:.4f}" for k, v in sums.items())
            + f" mAP@0.5 {m:.4f} ({time.time() - start:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
