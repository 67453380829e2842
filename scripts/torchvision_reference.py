#!/usr/bin/python3
"""Writes seeded torchvision ResNet state dicts and their encoder features, the independent reference for
SegSharp's model.encoder_weights key map (tests/SegSharp.Tests/Models/TorchvisionEncoderTests.cs).

Usage: python3 scripts/torchvision_reference.py OUT_DIR
Writes OUT_DIR/resnet18.pt, resnet50.pt (state dicts, as torch.save writes them) and resnet18-features.pt,
resnet50-features.pt ({input, layer1, layer4}). Layer 4 runs at output stride 16 the way SegSharp's encoder does:
stride 1 and every 3x3 convolution of the stage dilated by 2 (torchvision's replace_stride_with_dilation would
leave the first block undilated and does not support basic blocks).
"""
import sys

import torch
import torchvision


def dilate_last_stage(model):
    stage = model.layer4
    stage[0].downsample[0].stride = (1, 1)
    for block in stage:
        for conv in block.modules():
            if isinstance(conv, torch.nn.Conv2d):
                conv.stride = (1, 1)
                if conv.kernel_size == (3, 3):
                    conv.dilation, conv.padding = (2, 2), (2, 2)


def main(out):
    for arch in ("resnet18", "resnet50"):
        torch.manual_seed(7)
        model = getattr(torchvision.models, arch)()
        # Non-trivial batch-norm statistics, so the buffers' mapping is exercised too.
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.data.uniform_(0.5, 1.5)
                module.bias.data.normal_(0, 0.1)
        torch.save(model.state_dict(), f"{out}/{arch}.pt")
        dilate_last_stage(model)
        model.eval()
        x = torch.randn(2, 3, 64, 48, generator=torch.Generator().manual_seed(11))
        with torch.no_grad():
            stem = model.maxpool(model.relu(model.bn1(model.conv1(x))))
            layer1 = model.layer1(stem)
            layer4 = model.layer4(model.layer3(model.layer2(layer1)))
        torch.save({"input": x, "layer1": layer1, "layer4": layer4}, f"{out}/{arch}-features.pt")


if __name__ == "__main__":
    main(sys.argv[1])
