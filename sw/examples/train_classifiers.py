"""Train the bundled spiking classifiers and write them as NIR files.

Usage::

    python -m spikevec.sw.examples.train_classifiers [digits|mnist ...] [--epochs N]
           [--threads N] [--out DIR]

Without names both classifiers are trained. Needs torch (an optional dependency:
``pip install torch==2.13.0``, or the ``train`` extra); everything else in spikevec runs
without it.

What it does, per classifier (the data set, split, coding and sizes come from
:mod:`spikevec.sw.compiler.classifiers`, so training and evaluation agree):

1. encodes the **training** images only (latency coding, ``T`` steps), each epoch anew
   after shifting every image by a random 0 .. ``shift`` pixels (MNIST: 2; digits: none,
   as its 8x8 images lose too much);
2. trains ``Input -> Linear -> LIF -> Linear -> LI`` by backpropagation through time
   with a fast-sigmoid surrogate gradient. The forward pass is exactly the discrete
   model spikevec's NIR import gives the exported graph (forward Euler, ``dt = 1``,
   ``tau = r = 8``): ``v1 = 0.875 v1 + W1 s``; spike where ``v1 > 1``; reset ``v1 = 0``
   where it spiked; ``v2 = 0.875 v2 + W2 z``; scores = mean of ``v2`` over the steps;
3. fine-tunes for the last ``qat_epochs`` epochs with quantisation-aware training: each
   weight matrix is rounded (straight-through) to the power-of-two grid the compiler will
   use for 8-bit weights (the finest step ``2**-k`` with ``|w| / step <= 127``), so the
   exported weights are exactly representable and weight quantisation loses nothing;
4. writes the graph with ``nir.write`` (float32 weights, ``metadata['dt'] = 1``, readout
   mode ``mean`` on the Output node) and prints the float accuracy on the held-out set,
   both from torch and from spikevec's float reference on the written file.

Seeds are fixed (torch, numpy, the split), so a rerun with the same torch version and
thread count reproduces the files; training uses one thread unless ``--threads`` says
otherwise.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from ..compiler.classifiers import EXAMPLES_DIR, NAMES, load_classifier
from ..compiler.nir_import import from_nir
from ..compiler.reference import simulate

THRESHOLD = 1.0
SLOPE = 5.0          # fast-sigmoid surrogate: d spike / d v = 1 / (1 + SLOPE |v - thr|)^2
TRAINING = {          # per classifier: epochs, QAT epochs, batch, learning rate, weight
    # decay, and the largest random image shift (pixels) of the data augmentation
    "digits": dict(epochs=60, qat_epochs=10, batch=64, lr=3e-3, weight_decay=1e-5, shift=0),
    "mnist": dict(epochs=60, qat_epochs=8, batch=100, lr=2e-3, weight_decay=1e-5, shift=2),
}


def _torch():
    """Import torch or raise an ImportError that says how to install it."""
    try:
        import torch
    except ImportError:
        raise ImportError("Training the bundled classifiers needs torch, which is not "
                          "installed; install it with `pip install torch==2.13.0` (or "
                          "`pip install spikevec[train]`). Compiling and running the "
                          "committed NIR files does not need it.") from None
    return torch


def grid_step(w: np.ndarray) -> float:
    """The compiler's 8-bit weight step for a matrix: the finest ``2**-k`` with
    ``round(max|w| * 2**k) <= 127``."""
    top = float(np.max(np.abs(w)))
    if top == 0.0:
        return 1.0
    k = int(np.floor(np.log2(127.0 / top)))
    while round(top * 2.0 ** k) > 127:
        k -= 1
    return 2.0 ** -k


def make_model(torch, clf):
    """The trainable network; ``model(spikes [B, T, C], quantise)`` -> scores [B, 10]."""
    nn = torch.nn
    beta = 1.0 - 1.0 / clf.tau

    class Spike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x > 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad / (1.0 + SLOPE * x.abs()) ** 2

    def fake_quant(w):
        step = grid_step(w.detach().cpu().numpy())
        return w + (torch.round(w / step) * step - w).detach()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(clf.n_in, clf.hidden, bias=False)
            self.fc2 = nn.Linear(clf.hidden, clf.classes, bias=False)
            with torch.no_grad():
                self.fc1.weight.mul_(4.0)

        def forward(self, s, quantise=False):
            w1, w2 = self.fc1.weight, self.fc2.weight
            if quantise:
                w1, w2 = fake_quant(w1), fake_quant(w2)
            current = s @ w1.t()
            v1 = torch.zeros(s.shape[0], clf.hidden, dtype=s.dtype)
            v2 = torch.zeros(s.shape[0], clf.classes, dtype=s.dtype)
            total, rate = 0.0, 0.0
            for t in range(s.shape[1]):
                v1 = beta * v1 + current[:, t]
                z = Spike.apply(v1 - THRESHOLD)
                v1 = v1 * (1.0 - z.detach())
                v2 = beta * v2 + z @ w2.t()
                total = total + v2
                rate = rate + z.mean()
            self.rate = float(rate) / s.shape[1]
            return total / s.shape[1]

    return Net()


def train(name: str, epochs: int | None = None, out_dir: str = EXAMPLES_DIR) -> dict:
    """Train classifier ``name``, write its NIR file into ``out_dir``; return figures."""
    torch = _torch()
    clf = load_classifier(name)
    hp = dict(TRAINING[name])
    if epochs is not None:
        hp["qat_epochs"] = min(hp["qat_epochs"], max(1, epochs // 5))
        hp["epochs"] = epochs
    torch.manual_seed(clf.seed)
    rng = np.random.default_rng(clf.seed)
    x, y = clf.load_data()
    train_idx, test_idx = clf.split(y)
    x_test, y_test = clf.encode(x[test_idx]), y[test_idx]
    ys = torch.tensor(y[train_idx])
    model = make_model(torch, clf)
    opt = torch.optim.Adam(model.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, hp["epochs"])
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for epoch in range(hp["epochs"]):
        quantise = epoch >= hp["epochs"] - hp["qat_epochs"]
        order = rng.permutation(len(ys))
        xs = torch.tensor(clf.encode(shifted(x[train_idx], hp["shift"], rng)),
                          dtype=torch.float32)
        total, correct = 0.0, 0
        for i in range(0, len(order), hp["batch"]):
            idx = torch.as_tensor(order[i:i + hp["batch"]])
            scores = model(xs[idx], quantise)
            loss = loss_fn(scores, ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += int((scores.argmax(1) == ys[idx]).sum())
        sched.step()
        print(f"{name} epoch {epoch + 1:3d}/{hp['epochs']}{' (QAT)' if quantise else ''}: "
              f"loss {total / len(ys):.4f}, train accuracy {100 * correct / len(ys):.2f} %, "
              f"hidden rate {model.rate:.3f}", flush=True)
    seconds = time.perf_counter() - t0
    w1, w2 = (_on_grid(m.weight.detach().numpy()) for m in (model.fc1, model.fc2))
    with torch.no_grad():
        model.fc1.weight.copy_(torch.from_numpy(w1))
        model.fc2.weight.copy_(torch.from_numpy(w2))
        scores = model(torch.tensor(x_test, dtype=torch.float32))
    torch_acc = float((scores.argmax(1).numpy() == y_test).mean())
    path = write_nir(clf, w1, w2, out_dir)
    ref = simulate(from_nir(path), x_test)
    ref_acc = float((clf.predict(ref.readouts) == y_test).mean())
    return {"name": name, "epochs": hp["epochs"], "qat_epochs": hp["qat_epochs"],
            "train_seconds": seconds, "torch_accuracy": torch_acc, "path": path,
            "reference_accuracy": ref_acc}


def shifted(x: np.ndarray, most: int, rng) -> np.ndarray:
    """Augmentation: move each square image [N, side*side] by a random whole number of
    pixels in -most .. most along each axis, filling with zeros (``most = 0``: ``x``
    itself, drawing nothing from ``rng``)."""
    if most == 0:
        return x
    side = int(round(np.sqrt(x.shape[1])))
    img = x.reshape(-1, side, side)
    out = np.zeros_like(img)
    shifts = rng.integers(-most, most + 1, size=(len(x), 2))
    for i, (dy, dx) in enumerate(shifts):
        src = img[i, max(0, -dy):side - max(0, dy), max(0, -dx):side - max(0, dx)]
        out[i, max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out.reshape(x.shape)


def _on_grid(w: np.ndarray) -> np.ndarray:
    step = grid_step(w)
    return (np.round(w / step) * step).astype(np.float32)


def write_nir(clf, w1: np.ndarray, w2: np.ndarray, out_dir: str) -> str:
    """Write the trained graph as ``out_dir/clf.filename``; return the path."""
    import nir
    H, K, tau = clf.hidden, clf.classes, clf.tau
    full = lambda n, v: np.full(n, v, dtype=np.float32)  # noqa: E731
    nodes = {
        "input": nir.Input(input_type=np.array([clf.n_in])),
        "fc1": nir.Linear(weight=w1),
        "lif": nir.LIF(tau=full(H, tau), r=full(H, tau), v_leak=full(H, 0.0),
                       v_threshold=full(H, THRESHOLD), v_reset=full(H, 0.0)),
        "fc2": nir.Linear(weight=w2),
        "li": nir.LI(tau=full(K, tau), r=full(K, tau), v_leak=full(K, 0.0)),
        clf.readout: nir.Output(output_type=np.array([K]),
                                metadata={"spikevec_readout": "mean"}),
    }
    edges = [("input", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "li"),
             ("li", clf.readout)]
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": 1.0}, type_check=False)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, clf.filename)
    nir.write(path, graph)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"classifiers to train: {' or '.join(NAMES)} (default: all)")
    parser.add_argument("--epochs", type=int, help="override the number of epochs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--out", default=EXAMPLES_DIR,
                        help="where to write the .nir files (default: sw/examples)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser.error(f"unknown classifier(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(NAMES)}.")
    try:
        torch = _torch()
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    for name in args.names or NAMES:
        r = train(name, args.epochs, args.out)
        size = os.path.getsize(r["path"])
        print(f"{name}: {r['epochs']} epochs ({r['qat_epochs']} QAT) in "
              f"{r['train_seconds']:.0f} s; held-out float accuracy (torch) "
              f"{100 * r['torch_accuracy']:.2f} %; wrote {r['path']} ({size} bytes)")
        print(f"  spikevec float reference on the written file: "
              f"{100 * r['reference_accuracy']:.2f} % of the held-out images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
