#!/usr/bin/env python3
"""The project on a GPU (issue #36): the same networks on wgpu, beside PyTorch CUDA, measured by
one bounded script. In three steps, because the GPU machine can neither download nor compile:

    python3 benches/gpu.py kit          # on the build machine (no GPU needed): `resnet` and the
                                        # benchmark program built with the wgpu feature, stripped,
                                        # with ResNet-20's weights, its fixture and
                                        # 6,000 CIFAR-10 images, into gpu-kit/ (ignored by git)
    python3 benches/gpu.py run OUT      # on the GPU machine, from the repository root (with
                                        # gpu-kit/): writes OUT/system.json, parity.json,
                                        # speed.json, train.json and log.txt
    python3 benches/gpu.py report OUT   # anywhere: the Markdown section for docs/benchmarks.md

`run` measures, each step under a time limit, the whole under `--budget` seconds (default 420):
1. the machine: nvidia-smi's GPU and driver, the adapters wgpu finds (`backends --adapters`),
   PyTorch's CUDA device;
2. parity: `resnet infer --device wgpu` on the shared akamaster ResNet-20 and its 16 test images,
   the largest difference to PyTorch's logits (and flex's, for scale);
3. speed: the benchmark's `--one wgpu W` (benches/backends.rs: 2 warm-up steps, the median of at
   least 10 steps and 10 s; a warm-up step over 60 s is reported alone as `too_slow`) and
   benches/pytorch_reference.py on CUDA, eager (synchronised before the clock is read), for
   six workloads, images/s and the ratio;
4. training: `resnet train --device wgpu --arch resnet20` for `--iterations` iterations of batch
   128 on 5,000 CIFAR-10 training images (500 held out), its images/s and errors.
On a machine without an NVIDIA GPU the PyTorch side is skipped and wgpu runs on whatever adapter
there is (Mesa's lavapipe on the build machine): that is how this script is tested.

The lent GPU machines of this workplace have no Vulkan loader: bring Debian's (`libvulkan1`,
`libegl1`, `libglvnd0`, `libopengl0`, `libgl1`, `libglx0`, `libgles2`, downloaded with `apt-get
download` into an ignored `.gl/`), carry `gpu-kit` and `.gl`, and run there

    for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; PYTHONUNBUFFERED=1 python3 benches/gpu.py run $OUT

(`run` points Vulkan at NVIDIA's driver file where the machine has one and nothing else says.)
"""
import argparse
import json
import lzma
import os
import shutil
import subprocess
import sys
import time

KIT = "gpu-kit"
WORKLOADS = [
    ("resnet20-train-b128-32px", ["resnet20", True, 128, 32]),
    ("resnet20-eval-b128-32px", ["resnet20", False, 128, 32]),
    ("resnet56-train-b128-32px", ["resnet56", True, 128, 32]),
    ("resnet110-train-b128-32px", ["resnet110", True, 128, 32]),
    ("resnet50-eval-b8-224px", ["resnet50", False, 8, 224]),
    ("resnet50-train-b16-224px", ["resnet50", True, 16, 224]),
]
NVIDIA_ICD = "/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(args, timeout, log, env=None):
    """Runs `args`, its output appended to `log`; returns (exit status or 'timeout', stdout)."""
    start = time.time()
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
        status, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        status = "timeout"
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
    except FileNotFoundError as e:
        status, out, err = "missing", "", str(e)
    log.write(f"$ {' '.join(args)}  [{status}, {time.time() - start:.1f} s]\n{out[-4000:]}{err[-4000:]}\n")
    log.flush()
    return status, out


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    return None


def kit(args):
    shared = os.environ.get("RESNET_SHARED", os.path.join(ROOT, "..", "shared"))
    subprocess.run(["cargo", "build", "--release", "--features", "wgpu", "--bin", "resnet"], check=True, cwd=ROOT)
    messages = subprocess.run(
        ["cargo", "bench", "--features", "wgpu", "--bench", "backends", "--no-run", "--message-format=json"],
        check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout
    exe = None
    for line in messages.splitlines():
        m = json.loads(line)
        if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "backends" and m.get("executable"):
            exe = m["executable"]
    if exe is None:
        sys.exit("cargo named no executable for the backends benchmark")
    kit_dir = os.path.join(ROOT, KIT)
    shutil.rmtree(kit_dir, ignore_errors=True)
    os.makedirs(kit_dir)
    # Stripped and xz-compressed: 75 and 63 MB stripped, over what the device tool carries.
    for name, path in [("resnet", os.path.join(ROOT, "target/release/resnet")), ("backends", exe)]:
        stripped = os.path.join(kit_dir, name)
        subprocess.run(["strip", "-o", stripped, path], check=True)
        with open(stripped, "rb") as src, lzma.open(stripped + ".xz", "wb", preset=6) as dst:
            shutil.copyfileobj(src, dst)
        os.remove(stripped)
    shutil.copy(os.path.join(shared, "weights/cifar10-akamaster/resnet20.th"), kit_dir)
    shutil.copy(os.path.join(shared, "fixtures/akamaster/resnet20_io.safetensors"), kit_dir)
    small_cifar(os.path.join(shared, "data/cifar10/cifar-10-binary.tar.gz"), os.path.join(kit_dir, "cifar"))
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(kit_dir) for f in fs)
    print(f"{KIT}/: {size / 2**20:.1f} MiB (the device tool carries 64 MiB in all)")


def small_cifar(archive, out, per_batch=1000):
    """The first `per_batch` records of each CIFAR-10 batch file of `archive`, in CIFAR's own
    layout under `out` (the whole archive, 174 MB, does not travel): 5,000 training images and
    1,000 test images, enough for a short training run."""
    import tarfile

    batches = os.path.join(out, "cifar-10-batches-bin")
    os.makedirs(batches)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    with tarfile.open(archive) as tar:
        for member in tar:
            name = os.path.basename(member.name)
            if name in names:
                records = tar.extractfile(member).read(per_batch * 3073)
                with open(os.path.join(batches, name), "wb") as f:
                    f.write(records)
                names.remove(name)
    if names:
        sys.exit(f"{archive} lacks {names}")


def unpack(k):
    """The kit's programs, decompressed into a temporary folder; returns that folder."""
    bin_dir = "/tmp/resnet-gpu-kit"
    os.makedirs(bin_dir, exist_ok=True)
    for name in ["resnet", "backends"]:
        path = os.path.join(bin_dir, name)
        with lzma.open(os.path.join(k, name + ".xz"), "rb") as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.chmod(path, 0o755)
    return bin_dir


def system(b, log):
    info = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    status, out = sh(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm",
                      "--format=csv,noheader"], 30, log)
    info["nvidia_smi"] = out.strip() if status == 0 else None
    status, out = sh([f"{b}/backends", "--adapters"], 60, log)
    info["wgpu_adapters"] = last_json(out) if status == 0 else None
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["torch"] = None
    return info


def parity(k, b, out_dir, log):
    from safetensors.numpy import load_file

    fixture = load_file(f"{k}/resnet20_io.safetensors")
    result = {"images": int(fixture["input"].shape[0])}
    for device in ["wgpu", "flex"]:
        path = os.path.join(out_dir, f"logits_{device}.safetensors")
        status, _ = sh([f"{b}/resnet", "infer", "--arch", "resnet20", "--weights", f"{k}/resnet20.th",
                        "--input", f"{k}/resnet20_io.safetensors", "--output", path,
                        "--batch-size", "16", "--device", device], 120, log)
        if status != 0:
            result[device] = {"error": f"resnet infer: {status}"}
            continue
        logits = load_file(path)["logits"]
        os.remove(path)
        diff = abs(logits.astype("float64") - fixture["logits"].astype("float64")).max()
        agree = int((logits.argmax(1) == fixture["logits"].argmax(1)).sum())
        result[device] = {"max_abs_diff_vs_pytorch": float(diff), "same_top1": agree}
    return result


def speed(b, log, deadline, only, cuda, step_timeout):
    rows = []
    for name, spec in WORKLOADS:
        if only and only not in name:
            continue
        row = {"workload": name}
        for side in ["wgpu", "pytorch_cuda"]:
            left = deadline - time.time()
            if left < 30:
                row[side] = {"skipped": "the script's time budget"}
                continue
            if side == "wgpu":
                args = [f"{b}/backends", "--one", "wgpu", name]
            elif not cuda:
                row[side] = {"skipped": "no CUDA device"}
                continue
            else:
                script = os.path.join(ROOT, "benches/pytorch_reference.py")
                args = [sys.executable, script, "--one", "0", json.dumps(spec), "eager", "cuda"]
            status, out = sh(args, min(step_timeout, left), log)
            row[side] = (last_json(out) or {}) if status == 0 else {"error": str(status)}
        w, t = row.get("wgpu", {}).get("images_per_sec"), row.get("pytorch_cuda", {}).get("images_per_sec")
        if w and t:
            row["ratio"] = w / t
        rows.append(row)
        print(name, json.dumps(row), file=sys.stderr)
    return rows


def train(k, b, log, deadline, iterations, step_timeout, eval_images):
    run_dir = "/tmp/resnet-gpu-train"
    shutil.rmtree(run_dir, ignore_errors=True)
    left = deadline - time.time()
    if left < 30:
        return {"skipped": "the script's time budget"}
    args = [f"{b}/resnet", "train", "--device", "wgpu", "--arch", "resnet20", "--data", f"{k}/cifar",
            "--held-out", "500", "--iterations", str(iterations), "--batch-size", "128",
            "--eval-every", str(iterations), "--eval-images", str(eval_images), "--out", run_dir,
            "--log-lines"]
    start = time.time()
    status, _ = sh(args, min(2 * step_timeout, left), log)
    result = {"iterations": iterations, "batch": 128, "status": str(status), "wall_seconds": time.time() - start}
    metrics = os.path.join(run_dir, "metrics.csv")
    if os.path.exists(metrics):
        with open(metrics) as f:
            lines = f.read().strip().splitlines()
        header, last = lines[0].split(","), lines[-1].split(",")
        result["last_row"] = dict(zip(header, last))
    return result


def run(args):
    out_dir = args.out
    os.makedirs(out_dir, exist_ok=True)
    k = os.path.join(ROOT, KIT)
    # wgpu warns on every device query without it.
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    if os.path.exists(NVIDIA_ICD):
        os.environ.setdefault("VK_DRIVER_FILES", NVIDIA_ICD)
    deadline = time.time() + args.budget
    b = unpack(k)
    with open(os.path.join(out_dir, "log.txt"), "a") as log:
        def save(name, value):
            with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
                json.dump(value, f, indent=2)
            print(f"{name}: {json.dumps(value)[:600]}", file=sys.stderr)

        info = system(b, log)
        save("system", info)
        save("parity", parity(k, b, out_dir, log))
        cuda = bool(info.get("torch_cuda"))
        save("speed", speed(b, log, deadline, args.only, cuda, args.step_timeout))
        save("train", train(k, b, log, deadline, args.iterations, args.step_timeout, args.eval_images))


def report(args):
    load = lambda n: json.load(open(os.path.join(args.out, f"{n}.json")))
    info, par, rows, tr = load("system"), load("parity"), load("speed"), load("train")
    adapters = info.get("wgpu_adapters") or []
    first = next((a for a in adapters if a.get("backend") == "Vulkan"), adapters[0] if adapters else {})
    print(f"## On a GPU: wgpu beside PyTorch CUDA ({info['date']})\n")
    print(f"`python3 benches/gpu.py kit`, then on the GPU machine `python3 benches/gpu.py run OUT`, "
          f"then `python3 benches/gpu.py report OUT`. GPU: {info.get('nvidia_smi') or 'none'}; wgpu's "
          f"adapter: {first.get('name', '?')} ({first.get('backend', '?')}, driver {first.get('driver', '?')} "
          f"{first.get('driver_info', '')}); PyTorch {info.get('torch')} on {info.get('torch_cuda') or 'no CUDA device'}.\n")
    w = par.get("wgpu", {})
    print(f"Parity: `resnet infer --device wgpu` on the akamaster ResNet-20 and {par.get('images')} test "
          f"images, max |logits - PyTorch| {w.get('max_abs_diff_vs_pytorch', float('nan')):.2e} "
          f"(flex: {par.get('flex', {}).get('max_abs_diff_vs_pytorch', float('nan')):.2e}), "
          f"same top-1 on {w.get('same_top1', '?')}.\n")
    print("| workload | wgpu img/s | PyTorch CUDA eager img/s | wgpu / PyTorch | wgpu MiB (host) | PyTorch GPU MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        g, t = r.get("wgpu", {}), r.get("pytorch_cuda", {})
        cell = lambda m: (f"{m['images_per_sec']:.1f}" + (" (1 step)" if m.get("too_slow") else "")) \
            if "images_per_sec" in m else (m.get("error") or m.get("skipped") or "-")
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else "-"
        gm = f"{g['peak_mib']:.0f}" if "peak_mib" in g else "-"
        tm = f"{t['gpu_peak_mib']:.0f}" if "gpu_peak_mib" in t else "-"
        print(f"| {r['workload']} | {cell(g)} | {cell(t)} | {ratio} | {gm} | {tm} |")
    row = tr.get("last_row", {})
    speed = f"{float(row['images_per_sec']):.1f}" if row.get("images_per_sec") else "?"
    print(f"\nTraining: `resnet train --device wgpu --arch resnet20`, {tr.get('iterations')} iterations of "
          f"batch 128 on 5,000 CIFAR-10 images: {speed} images/s, "
          f"{tr.get('wall_seconds', 0):.0f} s in all (exit: {tr.get('status')}).")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("kit")
    r = sub.add_parser("run")
    r.add_argument("out")
    r.add_argument("--budget", type=float, default=420, help="seconds for the whole run")
    r.add_argument("--only", help="only the workloads whose name contains this")
    r.add_argument("--iterations", type=int, default=300, help="training iterations")
    r.add_argument("--eval-images", type=int, default=1000, help="images of each evaluation")
    r.add_argument("--step-timeout", type=float, default=150,
                   help="seconds for one workload's measurement (twice that for the training run)")
    p = sub.add_parser("report")
    p.add_argument("out")
    args = parser.parse_args()
    {"kit": kit, "run": run, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
