#!/usr/bin/env python3
"""PyTorch's figures for the workloads of benches/backends.rs, on this machine (optional;
never run in CI). Needs torch and torchvision (CPU builds are enough).

    cargo xtask bench --vs-pytorch       # what it is for: interleaved with flex, one process each
    python3 benches/pytorch_reference.py --one THREADS '["resnet20", true, 128, 32]' [CONFIG [DEVICE]]
    python3 benches/pytorch_reference.py --peak THREADS   # torch.mm's 4096x4096 SGEMM, GFLOP/s
    python3 benches/pytorch_reference.py [THREADS]        # every workload, JSON

Each workload runs in its own process so that its peak resident memory is its own; the
figure is the images/s of the median step of at least 10 (and 10 seconds) after 2 warm-up
steps (benches/backends.rs follows the same protocol), and `peak_mib` the
peak resident memory less what the process held after importing torch (`peak_rss_mib` is
the whole peak). Same networks as the
Rust side: CIFAR ResNets with option A shortcuts, ResNet-50 as the paper has it (torchvision's
model with each stage's stride moved from the 3x3 back to the first 1x1: 3.86 GMACs, not
v1.5's 4.09), 10 classes, SGD momentum 0.9, weight decay 1e-4.

CONFIG is how a user would tune PyTorch on a CPU (`CONFIGS`): `eager` (the default),
`channels_last` (model and input in NHWC memory format, which oneDNN's convolutions prefer) or
`compile` (`torch.compile` of the model, inductor; its compilation happens in the warm-up steps
and is reported as `warmup_seconds`). A configuration that fails prints `{"error": ...}`.

DEVICE is `cpu` (the default) or `cuda` (benches/gpu.sh): on a GPU every step ends with
`torch.cuda.synchronize()` before the clock is read, and `gpu_peak_mib` is
`torch.cuda.max_memory_allocated`.
"""
import json
import resource
import statistics
import subprocess
import sys
import time

CONFIGS = ("eager", "channels_last", "compile")

WORKLOADS = [
    ("resnet20", True, 128, 32),
    ("resnet20", False, 128, 32),
    ("resnet56", True, 128, 32),
    ("resnet110", True, 128, 32),
    ("preact-resnet110", True, 128, 32),
    ("resnet50", False, 8, 224),
    ("resnet50", True, 16, 224),
    ("resnext50_32x4d", False, 8, 224),
    ("resnext50_32x4d", True, 16, 224),
    ("resnet110", True, 128, 32, 0.5),
]


def name(arch, train, batch, size, stochastic_depth=None):
    sd = "" if stochastic_depth is None else f"-sd{stochastic_depth}"
    return f"{arch}-{'train' if train else 'eval'}-b{batch}-{size}px{sd}"


def paper_resnet50():
    """torchvision's ResNet-50 with the paper's (v1) bottleneck: stride on the first 1x1."""
    import torchvision

    model = torchvision.models.resnet50(num_classes=10)
    for stage in (model.layer2, model.layer3, model.layer4):
        first = stage[0]
        first.conv1.stride, first.conv2.stride = first.conv2.stride, first.conv1.stride
    return model


def cifar_resnet(depth, stochastic_depth=None):
    """The paper's CIFAR network; with stochastic depth (p_L), block l of L runs in a training
    step with probability p_l = 1 - l/L (1 - p_L), scaled by 1/p_l, and is skipped otherwise
    (the rule of `ResNet::stochastic_depth_draw`)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    n = (depth - 2) // 6
    blocks = 3 * n

    class Block(nn.Module):
        def __init__(self, i, o, stride, l):
            super().__init__()
            last = 1.0 if stochastic_depth is None else stochastic_depth
            self.survival = 1.0 - l / blocks * (1.0 - last)
            self.c1 = nn.Conv2d(i, o, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(o)
            self.c2 = nn.Conv2d(o, o, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(o)
            self.pad = (o - i) // 2 if stride != 1 or i != o else None

        def forward(self, x):
            s = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
            scale = 1.0
            if self.training and self.survival < 1.0:
                if torch.rand(()).item() >= self.survival:
                    return F.relu(s)
                scale = 1.0 / self.survival
            y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
            return F.relu(y * scale + s) if scale != 1.0 else F.relu(y + s)

    layers, i = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for o, stride in [(16, 1), (32, 2), (64, 2)]:
        for k in range(n):
            layers.append(Block(i, o, stride if k == 0 else 1, len(layers) - 2))
            i = o
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def preact_cifar_resnet(depth):
    """The 2016 paper's pre-activation CIFAR network (basic units, option A shortcuts)."""
    import torch.nn as nn
    import torch.nn.functional as F

    n = (depth - 2) // 6

    class Unit(nn.Module):
        def __init__(self, i, o, stride):
            super().__init__()
            self.b1 = nn.BatchNorm2d(i)
            self.c1 = nn.Conv2d(i, o, 3, stride, 1, bias=False)
            self.b2 = nn.BatchNorm2d(o)
            self.c2 = nn.Conv2d(o, o, 3, 1, 1, bias=False)
            self.pad = (o - i) // 2 if stride != 1 or i != o else None

        def forward(self, x):
            y = self.c2(F.relu(self.b2(self.c1(F.relu(self.b1(x))))))
            s = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
            return y + s

    layers, i = [nn.Conv2d(3, 16, 3, 1, 1, bias=False)], 16
    for o, stride in [(16, 1), (32, 2), (64, 2)]:
        for k in range(n):
            layers.append(Unit(i, o, stride if k == 0 else 1))
            i = o
    layers += [nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def resident_mib():
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / (1 << 20)


def measure(spec, config="eager", device="cpu"):
    arch, train, batch, size, *rest = spec
    stochastic_depth = rest[0] if rest else None
    import torch
    import torchvision

    # What the workload itself adds to the process (model, activations, gradients, the
    # allocator's caches), comparable to the heap the Rust benchmark counts; the libraries'
    # own resident pages (hundreds of MiB) are not the network's.
    baseline = resident_mib()

    threads = int(sys.argv[2])
    if threads > 0:
        torch.set_num_threads(threads)
    if arch == "resnet50":
        model = paper_resnet50()
    elif arch == "resnext50_32x4d":
        model = torchvision.models.resnext50_32x4d(num_classes=10)
    elif arch.startswith("preact-resnet"):
        model = preact_cifar_resnet(int(arch[len("preact-resnet"):]))
    else:
        model = cifar_resnet(int(arch[6:]), stochastic_depth)
    model = model.to(device)
    x = torch.randn(batch, 3, size, size, device=device)
    y = torch.arange(batch, device=device) % 10
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    if config == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    model.train(train)
    if config == "compile":
        model = torch.compile(model)

    def step():
        if train:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        else:
            with torch.no_grad():
                model(x)
        sync()

    start = time.perf_counter()
    for _ in range(2):
        step()
    warmup = time.perf_counter() - start
    # At least 10 steps and 10 seconds; the median step, robust to a transient slowdown of a
    # shared machine (the Rust side reports criterion's median too).
    times = []
    while len(times) < 10 or sum(times) < 10.0:
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gpu = {}
    if device == "cuda":
        gpu = {
            "gpu_peak_mib": torch.cuda.max_memory_allocated() / (1 << 20),
            "gpu": torch.cuda.get_device_name(0),
        }
    return {
        **gpu,
        "device": device,
        "images_per_sec": batch / seconds,
        "config": config,
        "warmup_seconds": warmup,
        "steps": len(times),
        "torch": torch.__version__,
        "peak_rss_mib": peak_mib,
        "peak_mib": peak_mib - baseline,
    }


def peak_gflops(threads):
    """GFLOP/s of the best of three 4096x4096 single-precision products (torch.mm)."""
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    n = 4096
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return {"gflops": 2 * n**3 / best / 1e9, "threads": torch.get_num_threads()}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--peak":
        print(json.dumps(peak_gflops(int(sys.argv[2]) if len(sys.argv) > 2 else 0)))
    elif len(sys.argv) > 1 and sys.argv[1] == "--one":
        config = sys.argv[4] if len(sys.argv) > 4 else "eager"
        device = sys.argv[5] if len(sys.argv) > 5 else "cpu"
        if config not in CONFIGS:
            sys.exit(f"unknown configuration {config!r}; one of {', '.join(CONFIGS)}")
        if device not in ("cpu", "cuda"):
            sys.exit(f"unknown device {device!r}; cpu or cuda")
        try:
            print(json.dumps(measure(json.loads(sys.argv[3]), config, device)))
        except Exception as e:  # a configuration that does not work here is a result too
            print(json.dumps({"config": config, "error": f"{type(e).__name__}: {e}"[:300]}))
    else:
        threads = sys.argv[1] if len(sys.argv) > 1 else "0"
        results = {}
        for w in WORKLOADS:
            for config in CONFIGS:
                out = subprocess.run(
                    [sys.executable, __file__, "--one", threads, json.dumps(w), config],
                    check=True, capture_output=True, text=True,
                ).stdout
                results.setdefault(name(*w), {})[config] = json.loads(out)
                print(name(*w), config, results[name(*w)][config], file=sys.stderr)
        print(json.dumps(results, indent=2))
