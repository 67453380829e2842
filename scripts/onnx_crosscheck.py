#!/usr/bin/python3
"""Independent checks of SegSharp's exported models, with Debian's python3-onnx and python3-torch
(tests/SegSharp.Tests/Models/OnnxCrossFrameworkTests.cs runs them; run them by hand the same way).

  python3 scripts/onnx_crosscheck.py check MODEL.onnx [MODEL.onnx ...]
      onnx.checker.check_model(full_check=True) on each file (graph, opset 17 schemas, shape inference).

  python3 scripts/onnx_crosscheck.py unet WEIGHTS.pt INPUT.pt OUTPUT.pt CHANNELS CLASSES DEPTH WIDTH NORM UPSAMPLING
      Builds SegSharp's U-Net in plain PyTorch (same layers, same state-dict keys), loads the state dict written by
      `segsharp export --format pytorch` with strict=True and weights_only=True, runs INPUT.pt's "input" tensor
      [N, C, H, W] and saves {"logits": ...} to OUTPUT.pt.
"""
import sys

import torch
from torch import nn


def groups(channels):
    return 8 if channels % 8 == 0 else 4 if channels % 4 == 0 else 1


def norm(kind, channels):
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(groups(channels), channels, eps=1e-5)
    return nn.Identity()


class ConvBlock(nn.Module):
    def __init__(self, inputs, outputs, kind):
        super().__init__()
        bias = kind == "none"
        self._layers = nn.Sequential(
            nn.Conv2d(inputs, outputs, 3, padding=1, bias=bias), norm(kind, outputs), nn.ReLU(inplace=True),
            nn.Conv2d(outputs, outputs, 3, padding=1, bias=bias), norm(kind, outputs), nn.ReLU(inplace=True))

    def forward(self, x):
        return self._layers(x)


class UNet(nn.Module):
    """SegSharp's U-Net (src/SegSharp/Models/UNet.cs), attribute for attribute."""

    def __init__(self, channels, classes, depth, width, kind, upsampling):
        super().__init__()
        self.stride = 2 ** depth
        self._encoders = nn.ModuleList()
        self._upsamplers = nn.ModuleList()
        self._decoders = nn.ModuleList()
        self._pool = nn.MaxPool2d(2)
        current = channels
        for level in range(depth + 1):
            self._encoders.append(ConvBlock(current, width << level, kind))
            current = width << level
        for level in range(depth - 1, -1, -1):
            out = width << level
            if upsampling == "transpose":
                self._upsamplers.append(nn.ConvTranspose2d(current, out, 2, stride=2))
            else:
                self._upsamplers.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                                      nn.Conv2d(current, out, 1)))
            self._decoders.append(ConvBlock(out * 2, out, kind))
            current = out
        self._head = nn.Conv2d(current, classes, 1)

    def forward(self, x):
        height, width = x.shape[2], x.shape[3]
        x = nn.functional.pad(x, (0, (-width) % self.stride, 0, (-height) % self.stride))
        skips = []
        for i, encoder in enumerate(self._encoders):
            if i > 0:
                x = self._pool(x)
            x = encoder(x)
            skips.append(x)
        for i, (up, decoder) in enumerate(zip(self._upsamplers, self._decoders)):
            x = decoder(torch.cat([skips[len(skips) - 2 - i], up(x)], 1))
        return self._head(x)[:, :, :height, :width]


def check(paths):
    import onnx
    for path in paths:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        print(f"{path}: ok (IR {model.ir_version}, opset {model.opset_import[0].version}, {len(model.graph.node)} nodes)")


def unet(weights, inputs, output, channels, classes, depth, width, kind, upsampling):
    model = UNet(int(channels), int(classes), int(depth), int(width), kind, upsampling)
    model.load_state_dict(torch.load(weights, weights_only=True), strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(torch.load(inputs, weights_only=True)["input"])
    torch.save({"logits": logits.contiguous()}, output)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2:])
    elif len(sys.argv) == 11 and sys.argv[1] == "unet":
        unet(*sys.argv[2:])
    else:
        sys.exit(__doc__)
