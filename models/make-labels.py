#!/usr/bin/python3
"""Writes the label files in models/labels/ from Debian's torchvision (no
download needed): run it again after a torchvision upgrade and commit the
result.

  imagenet.txt             ImageNet-1k, torchvision's class order (1000 lines)
  imagenet-background.txt  the same with "background" first (1001 lines), the
                           output order of Google's TFLite releases
  voc.txt                  Pascal VOC, torchvision's _VOC_CATEGORIES (21 lines)
  cityscapes.txt           Cityscapes train ids 0..18 (19 lines)
"""
import argparse
import os
import sys


def imagenet():
    from torchvision.models import MobileNet_V3_Small_Weights
    return list(MobileNet_V3_Small_Weights.IMAGENET1K_V1.meta["categories"])


def voc():
    from torchvision.models._meta import _VOC_CATEGORIES
    return list(_VOC_CATEGORIES)


def cityscapes():
    from torchvision.datasets import Cityscapes
    train = sorted((c.train_id, c.name) for c in Cityscapes.classes
                   if 0 <= c.train_id < 255)
    ids = [i for i, _ in train]
    if ids != list(range(len(ids))):
        raise SystemExit("unexpected Cityscapes train ids: %s" % ids)
    return [name for _, name in train]


def write(path, names, expected):
    if len(names) != expected:
        raise SystemExit("%s: got %d names, expected %d" % (path, len(names), expected))
    for n in names:
        if not n or "\n" in n or n != n.strip():
            raise SystemExit("%s: unusable label %r" % (path, n))
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(n + "\n" for n in names))
    print("wrote %s (%d labels)" % (path, len(names)))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dest", default=os.path.join(here, "labels"),
                        help="output folder (default: models/labels next to this script)")
    args = parser.parse_args()
    os.makedirs(args.dest, exist_ok=True)
    names = imagenet()
    write(os.path.join(args.dest, "imagenet.txt"), names, 1000)
    write(os.path.join(args.dest, "imagenet-background.txt"), ["background"] + names, 1001)
    write(os.path.join(args.dest, "voc.txt"), voc(), 21)
    write(os.path.join(args.dest, "cityscapes.txt"), cityscapes(), 19)
    return 0


if __name__ == "__main__":
    sys.exit(main())
