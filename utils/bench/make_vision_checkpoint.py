#!/usr/bin/env python3
"""Writes random-weight vision checkpoints of published sizes, for the
benchmarks (utils/bench/compare_vision.py):

  vit   ViT-B/16 at 224x224 (google/vit-base-patch16-224's config: 12 x 768,
        1000 labels) with ViTImageProcessor's settings
  clip  CLIP ViT-B/32 (openai/clip-vit-base-patch32's config) with
        CLIPImageProcessor's; the tokenizer files are copied from the small
        test fixture (the text tower is not what is measured)

usage: make_vision_checkpoint.py OUT_DIR --kind vit|clip
Needs: torch, transformers.
"""
import argparse
import json
import pathlib
import shutil

import torch
import transformers as tf

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLIP_FIXTURE = ROOT / "test" / "fixtures" / "vision" / "clip"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--kind", choices=["vit", "clip"], required=True)
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    torch.manual_seed(0)
    if args.kind == "vit":
        config = tf.ViTConfig(num_labels=1000)
        model = tf.ViTForImageClassification(config)
        processor = {"image_processor_type": "ViTImageProcessor",
                     "do_resize": True, "size": {"height": 224, "width": 224},
                     "resample": 2, "do_rescale": True,
                     "rescale_factor": 1 / 255, "do_normalize": True,
                     "image_mean": [0.5] * 3, "image_std": [0.5] * 3}
    else:
        config = tf.CLIPConfig(text_config={}, vision_config={},
                               projection_dim=512)
        model = tf.CLIPModel(config)
        processor = json.loads(
            (CLIP_FIXTURE / "preprocessor_config.json").read_text())
        processor["size"] = {"shortest_edge": 224}
        processor["crop_size"] = {"height": 224, "width": 224}
    model.eval().save_pretrained(out, safe_serialization=True)
    (out / "preprocessor_config.json").write_text(json.dumps(processor, indent=2))
    if args.kind == "clip":
        for name in ["vocab.json", "merges.txt", "tokenizer.json",
                     "tokenizer_config.json"]:
            shutil.copy(CLIP_FIXTURE / name, out / name)
        # The fixture's tokenizer has its own end-of-text id.
        config_path = out / "config.json"
        saved = json.loads(config_path.read_text())
        eos = json.loads((CLIP_FIXTURE / "config.json").read_text())[
            "text_config"]["eos_token_id"]
        saved["text_config"]["eos_token_id"] = eos
        config_path.write_text(json.dumps(saved, indent=2))
    print(f"wrote {args.kind} to {out}")


if __name__ == "__main__":
    main()
