#!/usr/bin/python3
"""Writes a model config for installation: its relative ../models/ weights
and ../models/labels/ paths (right in a checkout) become absolute paths to
the installed models and labels folders.

  install-config.py IN.yaml OUT.yaml MODELS_DIR LABELS_DIR

Fails when the config has no such weights line, so that a config whose
layout changed is not installed silently pointing at nothing."""
import re
import sys


def rewrite(text, models_dir, labels_dir):
    weights = re.compile(r"^(\s*weights:\s*)\.\./models/(?!labels/)", re.M)
    labels = re.compile(r"^(labels:\s*)\.\./models/labels/", re.M)
    text, n_weights = weights.subn(lambda m: m.group(1) + models_dir + "/", text)
    text, _ = labels.subn(lambda m: m.group(1) + labels_dir + "/", text)
    # The comments tell users how to get the models: the installed command.
    text = text.replace("models/fetch", "mnv3-fetch-models")
    return text, n_weights


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    src, dst, models_dir, labels_dir = sys.argv[1:]
    with open(src, encoding="utf-8") as f:
        text, n = rewrite(f.read(), models_dir, labels_dir)
    if n != 1:
        sys.exit("%s: expected one 'weights: ../models/FILE' line, found %d: "
                 "update data/install-config.py for its layout" % (src, n))
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
