"""Dead ReLU units in the hyper transforms, found and brought back to life.

A ReLU channel of h_a or h_s whose input is never positive passes only zeros:
its incoming weights get no gradient and it never recovers, so the entropy
model loses that capacity for good. `revive` gives each such channel a copy of
a live channel's incoming weights and bias (plus a little noise, so the two
part ways) and zeroes its outgoing weights. The copy is active where its
source is, so it gets gradients again; the zero outgoing weights keep the
network's function unchanged at the moment of the change, wherever the channel
was dead. Adam's moments of the changed slices are taken from the source
(incoming) or from the source's outgoing column, so the first steps are of the
usual size.

Only channels dead in both the training weights and their moving average are
changed, so both keep their function on the data the search ran on.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn as nn

from .net import Clip, HyperpriorModel, SubPixelConv

# (ReLU clip, producing layer, consuming conv), by module name.
SITES = [
    ("h_a.1", "h_a.0", "h_a.2"),
    ("h_a.3", "h_a.2", "h_a.4"),
    ("h_s.1", "h_s.0", "h_s.2"),
    ("h_s.3", "h_s.2", "h_s.4"),
]


def _conv(module: nn.Module) -> nn.Conv2d:
    return module.conv if isinstance(module, SubPixelConv) else module


def _rows(producer: nn.Module, c: int) -> slice:
    """Output rows of the producing conv that make channel c of its output."""
    if isinstance(producer, SubPixelConv):
        return slice(4 * c, 4 * c + 4)  # depth-to-space by 2, PyTorch order
    return slice(c, c + 1)


def activity(model: HyperpriorModel, x: torch.Tensor, levels: list[int]) -> dict:
    """Per site, per channel: the fraction of positions where the ReLU's input
    is positive, the largest over the qualities `levels` (real rounding)."""
    mods = dict(model.named_modules())
    act: dict[str, torch.Tensor] = {}
    hooks = []
    for site, _, _ in SITES:
        assert isinstance(mods[site], Clip) and mods[site].lo == 0

        def hook(mod, inp, out, site=site):
            a = (inp[0] > 0).float().mean((0, 2, 3))
            act[site] = a if site not in act else torch.maximum(act[site], a)
        hooks.append(mods[site].register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for q in levels:
                model(x, torch.full((x.shape[0],), float(q)))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return act


def dead_channels(model: HyperpriorModel, ema_model: HyperpriorModel | None,
                  x: torch.Tensor, levels: list[int]) -> dict[str, list[int]]:
    """Channels whose ReLU input is never positive on x at any of `levels`,
    in the weights and (if given) in their moving average."""
    a = activity(model, x, levels)
    b = activity(ema_model, x, levels) if ema_model is not None else a
    return {s: [int(c) for c in torch.nonzero((a[s] == 0) & (b[s] == 0)).flatten()]
            for s, _, _ in SITES}


def revive(model: HyperpriorModel, dead: dict[str, list[int]],
           ema: dict | None = None, opt: torch.optim.Optimizer | None = None,
           noise: float = 0.1, seed: int = 0) -> int:
    """Revives the `dead` channels in place (weights, the moving average `ema`
    as a state dict, Adam's moments in `opt`). Returns how many."""
    g = torch.Generator().manual_seed(seed)
    mods = dict(model.named_modules())
    names = {id(p): n for n, p in model.named_parameters()}
    count = 0
    for site, prod_name, cons_name in SITES:
        chans = dead.get(site, [])
        if not chans:
            continue
        prod, cons = mods[prod_name], _conv(mods[cons_name])
        pconv = _conv(prod)
        width = cons.weight.shape[1]
        dead_set = set(chans)
        live = [c for c in range(width) if c not in dead_set]
        if not live:
            raise ValueError(f"{site}: every channel is dead")
        picks = torch.randint(len(live), (len(chans),), generator=g)
        for c, k in zip(chans, picks.tolist()):
            j = live[k]
            rc, rj = _rows(prod, c), _rows(prod, j)
            with torch.no_grad():
                w = pconv.weight[rj].clone()
                w += noise * w.std() * torch.randn(w.shape, generator=g)
                pconv.weight[rc] = w
                pconv.bias[rc] = pconv.bias[rj]
                cons.weight[:, c] = 0
            if ema is not None:
                ema[names[id(pconv.weight)]][rc] = w
                ema[names[id(pconv.bias)]][rc] = pconv.bias[rc].detach()
                ema[names[id(cons.weight)]][:, c] = 0
            if opt is not None:
                for p in (pconv.weight, pconv.bias):
                    st = opt.state.get(p)
                    if st:
                        st["exp_avg"][rc] = st["exp_avg"][rj]
                        st["exp_avg_sq"][rc] = st["exp_avg_sq"][rj]
                st = opt.state.get(cons.weight)
                if st:
                    st["exp_avg"][:, c] = 0
                    st["exp_avg_sq"][:, c] = st["exp_avg_sq"][:, j]
            count += 1
    return count


def main(argv=None) -> int:
    """Reports the dead channels of a checkpoint's exported weights."""
    import argparse

    from .data import CropCache
    from .net import Config
    from .train import COMMITTED, export_weights

    ap = argparse.ArgumentParser(
        description="Counts the ReLU channels of h_a/h_s that are dead (input never "
                    "positive) on training's 8 validation crops at every quality.")
    ap.add_argument("--checkpoint", type=Path, default=COMMITTED)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    ck = torch.load(args.checkpoint, map_location="cpu")
    model = HyperpriorModel(Config.from_dict(ck["config"]))
    model.load_state_dict(export_weights(ck))
    val = torch.from_numpy(CropCache().validation()).float() / 255
    act = activity(model, val, list(range(len(model.cfg.lambdas))))
    print(f"step {ck['step']}")
    for site, _, _ in SITES:
        a = act[site]
        print(f"{site}: {a.numel()} channels, {int((a == 0).sum())} dead, "
              f"{int((a < 0.01).sum())} active at under 1 % of positions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
