#!/usr/bin/python3
"""The fxic benchmark driver behind scripts/bench.sh (see its --help).

Measures, in one run on one machine, and writes a markdown section
"## Benchmark" into docs/speed.md (the rest of the file is kept):

  - fxic encode / decode wall time and peak RSS per Kodak image, file to
    file (PNG in, PNG out, embedded model), for every ISA path x thread count
    and for the default command (best path, all cores);
  - the same network in float PyTorch (bench/torch_hyperprior.py), transforms
    only, and the ratios fxic / PyTorch (fxic file to file, and fxic's own
    report of its in-memory coding time);
  - cjpeg, cwebp, avifenc, cjxl at default settings, encode and decode;
  - the CPU's peak int16 / int8 multiply-accumulate rates and the fraction
    fxic's convolutions reach (bench/fxic_bench_kernels), plus the effective
    rate of whole commands;
  - time and peak RSS of larger images (PNG mosaics of Kodak images).

Times are medians of --runs runs per image; every ratio is between numbers
measured in this run. Uses the Python standard library, plus Pillow to make
the mosaics and PPM inputs. Progress goes to stderr.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

DEFAULT_IMAGES = "1,5,8,13,19,23"  # landscape and portrait, varied content
QUICK_IMAGES = "19,23"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ running


@dataclass
class Run:
    seconds: float  # wall
    rss_kb: int
    code: int
    stderr: str
    cpu: float = 0.0  # user + system seconds

    @property
    def ok(self) -> bool:
        return self.code == 0


def run(cmd: list[str], env: dict | None = None, timeout: float | None = None,
        mem_limit: int | None = None) -> Run:
    """Runs cmd; wall time around fork..exit, peak RSS from wait4()."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)

    def limit():
        if mem_limit:
            resource.setrlimit(resource.RLIMIT_AS, (mem_limit, mem_limit))

    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=err, env=full_env, preexec_fn=limit)
        timer = threading.Timer(timeout, p.kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - t0
        if timer:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
    if p.returncode < 0 and timeout and seconds >= timeout:
        text += f"\n(killed after {timeout:.0f} s)"
    return Run(seconds, usage.ru_maxrss, p.returncode, text, usage.ru_utime + usage.ru_stime)


def check(r: Run, what: str) -> Run:
    if not r.ok:
        raise SystemExit(f"bench: {what} failed (exit {r.code}):\n{r.stderr.strip()}")
    return r


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pixels_sha(image: Path) -> str:
    from PIL import Image
    with Image.open(image) as im:
        return hashlib.sha256(im.convert("RGB").tobytes()).hexdigest()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ------------------------------------------------------------------ machine


def machine_info(fxic: Path) -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 2**20
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": os.cpu_count() or 1,
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": round(mem_gb, 1),
        "kernel": platform.release(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_start": os.getloadavg()[0],
    }
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        info["commit"] = commit + (" + local changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = "unknown"
    out = subprocess.run([str(fxic), "info"], capture_output=True, text=True)
    m = re.search(r"model id\s+([0-9a-f]+)", out.stdout + out.stderr)
    info["model_id"] = m.group(1) if m else "unknown"
    cache = fxic.parent.parent / "CMakeCache.txt"
    info["compiler"] = "unknown"
    if cache.exists():
        text = cache.read_text(errors="replace")
        cxx = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.*)$", text, re.M)
        bt = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", text, re.M)
        if cxx:
            ver = subprocess.run([cxx.group(1), "--version"], capture_output=True, text=True)
            first = (ver.stdout.splitlines() or ["?"])[0]
            info["compiler"] = f"{first}, {bt.group(1) if bt else '?'}"
    return info


def _cpu_ticks() -> dict:
    ticks = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        # comm may hold spaces: fields after the last ')'.
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        rest = stat[stat.rfind(")") + 2:].split()
        ticks[int(d.name)] = (comm, int(rest[11]) + int(rest[12]))  # utime + stime
    return ticks


def busy_processes(seconds: float = 1.0) -> list[str]:
    """Processes other than this one that used >= 20% of a core over
    `seconds` (sampled from /proc): for the report, and a warning."""
    try:
        a = _cpu_ticks()
        time.sleep(seconds)
        b = _cpu_ticks()
    except OSError:
        return []
    hz = os.sysconf("SC_CLK_TCK")
    busy = []
    for pid, (comm, t1) in b.items():
        if pid == os.getpid() or pid not in a:
            continue
        share = (t1 - a[pid][1]) / hz / seconds
        if share >= 0.2:
            busy.append(f"{comm} ({100 * share:.0f}% of a core)")
    return busy


# ------------------------------------------------------------------ inputs


def pick_images(kodak: Path, spec: str) -> list[Path]:
    """spec: "all", or a comma list of Kodak numbers (5) or file names."""
    every = sorted(kodak.glob("kodim*.png"))
    if not every:
        raise SystemExit(f"bench: no kodim*.png in {kodak}")
    if spec == "all":
        return every
    picked = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        if item.isdigit():
            name = f"kodim{int(item):02d}.png"
        else:
            name = item if item.endswith(".png") else item + ".png"
        path = kodak / name
        if not path.exists():
            raise SystemExit(f"bench: {path} not found")
        picked.append(path)
    if not picked:
        raise SystemExit("bench: --images selects no image")
    return picked


def make_ppm(png: Path, out: Path) -> Path:
    from PIL import Image
    Image.open(png).convert("RGB").save(out)
    return out


def make_mosaic(images: list[Path], megapixels: float, out: Path) -> tuple[int, int]:
    """A 3:2 PNG of about `megapixels`, tiled with the Kodak images (portrait
    ones turned to landscape), written with fast zlib settings."""
    from PIL import Image
    w = int(round(math.sqrt(megapixels * 1e6 * 1.5)))
    h = int(round(w / 1.5))
    tiles = []
    for p in images:
        im = Image.open(p).convert("RGB")
        if im.height > im.width:
            im = im.transpose(Image.Transpose.ROTATE_90)
        tiles.append(im)
    canvas = Image.new("RGB", (w, h))
    tw, th = tiles[0].size
    k = 0
    for y in range(0, h, th):
        for x in range(0, w, tw):
            canvas.paste(tiles[k % len(tiles)], (x, y))
            k += 1
    canvas.save(out, compress_level=1)
    return w, h


# ------------------------------------------------------------------ parts


@dataclass
class Stat:
    """Per-image medians of one measured command."""
    seconds: dict = field(default_factory=dict)  # image -> [runs]
    rss_kb: dict = field(default_factory=dict)
    bytes: dict = field(default_factory=dict)
    # fxic only: the time the command itself reports for coding in memory
    # ("... (84 ms)": Encode() / Decode(), entropy coding included; no
    # process start, model load or file and PNG I/O).
    codec_ms: dict = field(default_factory=dict)

    def add(self, image: str, r: Run) -> None:
        self.seconds.setdefault(image, []).append(r.seconds)
        self.rss_kb.setdefault(image, []).append(r.rss_kb)
        # "... decoded (84 ms)" / "... (quality 4, 84 ms)": the last "N ms)".
        m = re.search(r"(\d+(?:\.\d+)?) ms\)\s*$", r.stderr)
        if m:
            self.codec_ms.setdefault(image, []).append(float(m.group(1)))

    def mean_codec_ms(self) -> float:
        v = [median(x) for x in self.codec_ms.values()]
        return sum(v) / len(v) if v else float("nan")

    def per_image_ms(self) -> dict:
        return {k: 1e3 * median(v) for k, v in self.seconds.items()}

    def mean_ms(self) -> float:
        v = list(self.per_image_ms().values())
        return sum(v) / len(v) if v else float("nan")

    def range_ms(self) -> tuple[float, float]:
        v = list(self.per_image_ms().values())
        return (min(v), max(v)) if v else (float("nan"), float("nan"))

    def max_rss_mb(self) -> float:
        v = [x for runs in self.rss_kb.values() for x in runs]
        return max(v) / 1024 if v else float("nan")


def fxic_configs(isas: list[str], threads: list[int]) -> list[dict]:
    configs = [{"name": "default", "isa": None, "threads": None}]
    for isa in isas:
        for t in threads:
            configs.append({"name": f"{isa} t{t}", "isa": isa, "threads": t})
    return configs


def bench_fxic(fxic: Path, images: list[Path], configs: list[dict], runs: int,
               work: Path, timeout: float) -> dict:
    results = {c["name"]: {"enc": Stat(), "dec": Stat()} for c in configs}
    results["default"]["dec_ppm"] = Stat()
    digests: dict = {}  # (image, kind) -> {config: sha}

    def env_of(c):
        return {"FXIC_ISA": c["isa"]} if c["isa"] else {}

    def targs(c):
        return ["-t", str(c["threads"])] if c["threads"] else []

    # Warm-up: page cache for the binary and the images.
    for img in images:
        check(run([str(fxic), "encode", str(img), "-o", str(work / "warm.fxic"), "-f", "--quiet"]),
              f"fxic encode {img.name}")
    total = runs * len(images) * len(configs)
    done = 0
    for r in range(runs):
        for img in images:
            for c in configs:
                bits = work / f"{img.stem}.{c['name'].replace(' ', '_')}.fxic"
                out = work / f"{img.stem}.{c['name'].replace(' ', '_')}.png"
                # Not --quiet: the one stderr line gives the in-memory coding time.
                e = check(run([str(fxic), "encode", str(img), "-o", str(bits), "-f"] + targs(c),
                              env_of(c), timeout), f"fxic encode {img.name} ({c['name']})")
                d = check(run([str(fxic), "decode", str(bits), "-o", str(out), "-f"] + targs(c),
                              env_of(c), timeout), f"fxic decode {img.name} ({c['name']})")
                results[c["name"]]["enc"].add(img.name, e)
                results[c["name"]]["dec"].add(img.name, d)
                results[c["name"]]["enc"].bytes[img.name] = bits.stat().st_size
                if c["name"] == "default":
                    ppm = work / f"{img.stem}.default.ppm"
                    p = check(run([str(fxic), "decode", str(bits), "-o", str(ppm), "-f", "--quiet"],
                                  None, timeout), f"fxic decode {img.name} to PPM")
                    results["default"]["dec_ppm"].add(img.name, p)
                    if r == 0:
                        digests.setdefault((img.name, "pixels"), {})["default PPM"] = pixels_sha(ppm)
                digests.setdefault((img.name, "bitstream"), {})[c["name"]] = sha(bits)
                if r == 0:
                    digests.setdefault((img.name, "pixels"), {})[c["name"]] = pixels_sha(out)
                done += 1
                log(f"fxic {c['name']:>16} {img.name} run {r + 1}/{runs}: "
                    f"encode {e.seconds * 1e3:7.1f} ms, decode {d.seconds * 1e3:7.1f} ms  ({done}/{total})")
    mismatches = []
    for (img, kind), by in sorted(digests.items()):
        if len(set(by.values())) > 1:
            mismatches.append(f"{img} {kind}: " + ", ".join(f"{k}={v[:12]}" for k, v in by.items()))
    return {"stats": results, "mismatches": mismatches}


CODECS = [
    # name, package, encoder cmd(in, out), decoder cmd(in, out), input kind, output ext
    ("JPEG (cjpeg / djpeg)", "libjpeg-turbo-progs",
     lambda i, o: ["cjpeg", "-outfile", o, i], lambda i, o: ["djpeg", "-outfile", o, i], "ppm", "jpg", "ppm"),
    ("WebP (cwebp / dwebp)", "webp",
     lambda i, o: ["cwebp", "-quiet", i, "-o", o], lambda i, o: ["dwebp", "-quiet", i, "-o", o], "png", "webp", "png"),
    ("AVIF (avifenc / avifdec)", "libavif-bin",
     lambda i, o: ["avifenc", i, o], lambda i, o: ["avifdec", i, o], "png", "avif", "png"),
    ("JPEG XL (cjxl / djxl)", "libjxl-tools",
     lambda i, o: ["cjxl", i, o], lambda i, o: ["djxl", i, o], "png", "jxl", "png"),
]


def bench_codecs(images: list[Path], ppms: dict, runs: int, work: Path, timeout: float) -> dict:
    results = {}
    for name, _, enc, dec, kind, ext, dext in CODECS:
        results[name] = {"enc": Stat(), "dec": Stat(), "input": kind, "output": dext}
    total = runs * len(images) * len(CODECS)
    done = 0
    for r in range(runs):
        for img in images:
            for name, _, enc, dec, kind, ext, dext in CODECS:
                src = str(ppms[img.name] if kind == "ppm" else img)
                out = work / f"{img.stem}.{ext}"
                back = work / f"{img.stem}.{ext}.{dext}"
                if out.exists():
                    out.unlink()
                e = check(run(enc(src, str(out)), None, timeout), f"{name} encode {img.name}")
                d = check(run(dec(str(out), str(back)), None, timeout), f"{name} decode {img.name}")
                results[name]["enc"].add(img.name, e)
                results[name]["dec"].add(img.name, d)
                results[name]["enc"].bytes[img.name] = out.stat().st_size
                done += 1
                log(f"{name:>24} {img.name} run {r + 1}/{runs}: encode {e.seconds * 1e3:7.1f} ms, "
                    f"decode {d.seconds * 1e3:7.1f} ms  ({done}/{total})")
    return results


def bench_torch(python: str, threads: list[int], runs: int) -> dict:
    out = {}
    for t in threads:
        log(f"PyTorch float transforms, {t} thread(s), {runs} runs")
        p = subprocess.run([python, str(REPO / "bench" / "torch_hyperprior.py"), "--threads", str(t),
                            "--runs", str(runs)], capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"bench: bench/torch_hyperprior.py failed:\n{p.stderr.strip()}")
        sys.stderr.write(p.stderr)
        out[t] = json.loads(p.stdout)
    return out


def parse_kernels(text: str) -> dict:
    res = {"isas": [], "peaks": {}, "paths": {}, "all_layers": {}, "enc_gmac": None, "dec_gmac": None,
           "threads": 1}
    m = re.search(r"# fxic_bench_kernels: (\d+) thread\(s\), ISA paths:(.*)", text)
    if m:
        res["threads"] = int(m.group(1))
        res["isas"] = m.group(2).split()
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and re.fullmatch(r"[\d.]+", cells[1]) and ("vp" in cells[0]):
            res["peaks"][cells[0]] = float(cells[1])
        elif len(cells) == 4 and cells[3].endswith("%") and cells[0] in res["isas"]:
            res["paths"][cells[0]] = {"gmacs": float(cells[1]), "peak": float(cells[2]),
                                      "fraction": float(cells[3].rstrip("%")) / 100}
        elif cells and cells[0].startswith("encoder (g_a"):
            res["enc_gmac"] = float(cells[1])
        elif cells and cells[0].startswith("decoder (h_s"):
            res["dec_gmac"] = float(cells[1])
        elif cells and cells[0] == "**all layers**":
            vals = [re.match(r"\*\*([\d.]+)", c) for c in cells[3:]]
            for isa, v in zip(res["isas"], vals):
                if v:
                    res["all_layers"][isa] = float(v.group(1))
    return res


def bench_kernels(binary: Path, threads: list[int], macs: float, reps: int) -> dict:
    out = {}
    # The same OpenMP wait policy as the fxic command (apps/fxic_main.cpp).
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    for t in threads:
        log(f"fxic_bench_kernels -t {t} --macs {macs:g} --reps {reps}")
        p = subprocess.run([str(binary), "-t", str(t), "--macs", f"{macs:g}", "--reps", str(reps), "--check"],
                           capture_output=True, text=True, env=env)
        if p.returncode != 0:
            raise SystemExit(f"bench: {binary.name} failed:\n{p.stdout[-2000:]}{p.stderr}")
        out[t] = parse_kernels(p.stdout)
        out[t]["raw"] = p.stdout
    return out


def bench_sizes(fxic: Path, images: list[Path], sizes: list[float], runs: int, work: Path,
                timeout: float, mem_limit: int | None) -> list[dict]:
    rows = []
    for mp in sizes:
        png = work / f"mosaic_{mp:g}mp.png"
        log(f"making a {mp:g} MP mosaic")
        w, h = make_mosaic(images, mp, png)
        bits, out = work / "mosaic.fxic", work / "mosaic_out.png"
        row = {"mp": mp, "width": w, "height": h, "enc": [], "dec": [], "error": ""}
        for r in range(runs):
            log(f"fxic {w}x{h} ({mp:g} MP) run {r + 1}/{runs}: encoding")
            e = run([str(fxic), "encode", str(png), "-o", str(bits), "-f", "--quiet"], None, timeout, mem_limit)
            if not e.ok:
                row["error"] = "encode: " + (e.stderr.strip().splitlines() or [f"exit {e.code}"])[-1]
                row["enc"].append(e)
                break
            row["enc"].append(e)
            row["bytes"] = bits.stat().st_size
            log(f"fxic {w}x{h} ({mp:g} MP) run {r + 1}/{runs}: decoding")
            d = run([str(fxic), "decode", str(bits), "-o", str(out), "-f", "--quiet"], None, timeout, mem_limit)
            row["dec"].append(d)
            if not d.ok:
                row["error"] = "decode: " + (d.stderr.strip().splitlines() or [f"exit {d.code}"])[-1]
                break
        png.unlink(missing_ok=True)
        for f in (bits, out):
            f.unlink(missing_ok=True)
        rows.append(row)
    return rows


# ------------------------------------------------------------------ report


def fmt_ms(v: float) -> str:
    if v != v:
        return "–"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def report(args, info, images, fx, kern, torch_res, codecs, sizes, peak_threads) -> str:
    L = []
    n_img = len(images)
    L.append("## Benchmark")
    L.append("")
    L.append("Produced by one run of")
    L.append("")
    L.append("```sh")
    L.append(args.command_line)
    L.append("```")
    L.append("")
    L.append("`scripts/bench.sh` with no options (about 4 minutes on 2 cores, plus the build) measures everything below "
             "with the full defaults and rewrites this section; run it on an otherwise idle machine.")
    L.append("")
    L.append(f"- CPU: **{info['cpu']}**, {info['cores']} cores ({info['usable_cores']} usable), "
             f"{info['memory_gib']} GiB; Linux {info['kernel']}")
    L.append(f"- build: {info['compiler']}; commit {info['commit']}; embedded model {info['model_id']}")
    L.append(f"- {info['date']}; load average {info['loadavg_start']:.2f} at the start, "
             f"{info['loadavg_end']:.2f} at the end"
             + (f"; other busy processes: {', '.join(info['busy'])}" if info.get("busy") else ""))
    if args.note:
        L.append(f"- **{args.note}**")
    if args.quick:
        L.append("- **quick mode** (`--quick`: few images, one run, small kernel crops, small sizes only): "
                 "a check that the benchmark works, not numbers to quote")
    L.append(f"- images: {n_img} Kodak images ({', '.join(p.stem for p in images)}; 768×512 or 512×768), "
             f"median of {args.runs} run(s) per image; tables give the mean over the images of those "
             "medians, and the range over images. Only ratios within this run mean anything.")
    L.append("")

    # fxic
    st = fx["stats"]
    L.append("### fxic, file to file")
    L.append("")
    L.append("`fxic encode IMAGE.png -o X.fxic` and `fxic decode X.fxic -o OUT.png` (quality 4, embedded model; "
             "times include process start, model load, PNG read/write and entropy coding). ISA path by "
             "`FXIC_ISA`, threads by `-t`; *default* is the plain command (best path, all cores). Peak RSS "
             "is the largest over all runs (`ru_maxrss` from `wait4`, what `/usr/bin/time -v` reports).")
    L.append("")
    L.append("| ISA path | threads | encode ms | (range) | decode ms | (range) | encode peak RSS MB | decode peak RSS MB |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, s in st.items():
        isa, _, t = name.partition(" t")
        label = "default (auto)" if name == "default" else isa
        threads = str(info["usable_cores"]) + " (all)" if name == "default" else t
        e, d = s["enc"], s["dec"]
        el, eh = e.range_ms()
        dl, dh = d.range_ms()
        L.append(f"| {label} | {threads} | {fmt_ms(e.mean_ms())} | {fmt_ms(el)}–{fmt_ms(eh)} | "
                 f"{fmt_ms(d.mean_ms())} | {fmt_ms(dl)}–{fmt_ms(dh)} | {e.max_rss_mb():.0f} | {d.max_rss_mb():.0f} |")
    dp = st["default"]["dec_ppm"]
    L.append("")
    L.append(f"Default decode to PPM instead of PNG: {fmt_ms(dp.mean_ms())} ms "
             f"({dp.mean_ms() / st['default']['dec'].mean_ms():.2f}× the PNG time). "
             + ("Bitstreams and decoded pixels were identical for every path and thread count."
                if not fx["mismatches"] else "**MISMATCH between paths: " + "; ".join(fx["mismatches"]) + "**"))
    per = st["default"]
    L.append("")
    L.append("Per image, default command (ms):")
    L.append("")
    L.append("| image | " + " | ".join(p.stem for p in images) + " |")
    L.append("|---|" + "---:|" * n_img)
    pe, pd = per["enc"].per_image_ms(), per["dec"].per_image_ms()
    L.append("| encode | " + " | ".join(fmt_ms(pe[p.name]) for p in images) + " |")
    L.append("| decode | " + " | ".join(fmt_ms(pd[p.name]) for p in images) + " |")
    bpp = [8 * per["enc"].bytes[p.name] / (768 * 512) for p in images]
    L.append("| bpp | " + " | ".join(f"{b:.3f}" for b in bpp) + " |")
    L.append("")

    # PyTorch
    if torch_res:
        L.append("### The same network in float PyTorch")
        L.append("")
        any_t = next(iter(torch_res.values()))
        L.append(f"`bench/torch_hyperprior.py`: models/fxic/net.py with "
                 f"{'the weights of models/checkpoint/hyperprior.pt' if any_t['weights'] == 'checkpoint' else any_t['weights']}"
                 f", PyTorch {any_t['torch']} (Debian), `torch.inference_mode()`, one random "
                 f"{any_t['width']}×{any_t['height']} input, median of {any_t['runs']} runs"
                 + (", freed buffers kept in the heap as in training (`models/fxic/heap.py`; "
                    "with glibc's defaults the transforms took about twice as long)"
                    if any_t.get("heap", "").startswith("kept") else "") + ". "
                 "**PyTorch is timed on the transforms only** (encode: g_a, gain, h_a, rounding, h_s; "
                 "decode: h_s, g_s), with no entropy coding, no image or model I/O and no process start. "
                 "fxic is given two ways (means over the images, path " + args.best_isa + "): the whole "
                 "file-to-file commands above, and the time each command reports for its coding in memory "
                 "(`Encode()` of the pixels / `Decode()` of the bitstream: the transforms plus entropy "
                 "coding and the integer/pixel conversions; no process start, model load or file and PNG "
                 "I/O). Both ratios favour PyTorch, the first one much more.")
        L.append("")
        L.append("| threads | | PyTorch transforms ms | fxic file to file ms | fxic / PyTorch | "
                 "fxic in memory ms | fxic / PyTorch |")
        L.append("|---:|---|---:|---:|---:|---:|---:|")
        best = args.best_isa
        for t, tr in sorted(torch_res.items()):
            key = f"{best} t{t}"
            if key not in st:
                continue
            for kind, label, ref in (("enc", "encode", tr["encode_ms"]), ("dec", "decode", tr["decode_ms"])):
                f, fm = st[key][kind].mean_ms(), st[key][kind].mean_codec_ms()
                L.append(f"| {t} | {label} | {fmt_ms(ref)} | {fmt_ms(f)} | {f / ref:.3f} | "
                         f"{fmt_ms(fm)} | {fm / ref:.3f} |")
        L.append("")

    # Other codecs
    if codecs:
        L.append("### Other codecs at default settings")
        L.append("")
        L.append("Default options of each tool (Debian 12 packages), same images and runs; fxic is the "
                 "default command at its default quality (4). Inputs and outputs as listed: cjpeg reads "
                 "only PPM and djpeg writes PPM; the others read and write PNG. Each tool uses its own "
                 "default thread count.")
        L.append("")
        L.append("| codec | in → out | encode ms | decode ms | bpp (mean) | encode / fxic | decode / fxic |")
        L.append("|---|---|---:|---:|---:|---:|---:|")
        fe, fd = st["default"]["enc"].mean_ms(), st["default"]["dec"].mean_ms()
        fb = sum(bpp) / len(bpp)
        L.append(f"| fxic (default) | png → png | {fmt_ms(fe)} | {fmt_ms(fd)} | {fb:.3f} | 1.00 | 1.00 |")
        for name, s in codecs.items():
            b = [8 * s["enc"].bytes[p.name] / (768 * 512) for p in images]
            e, d = s["enc"].mean_ms(), s["dec"].mean_ms()
            L.append(f"| {name} | {s['input']} → {s['output']} | {fmt_ms(e)} | {fmt_ms(d)} | "
                     f"{sum(b) / len(b):.3f} | {e / fe:.2f} | {d / fd:.2f} |")
        L.append("")

    # MAC rates
    if kern:
        k1 = kern[min(kern)]
        L.append("### Multiply-accumulate rates")
        L.append("")
        L.append(f"`fxic_bench_kernels -t T --check --macs {args.kernel_macs:g} --reps {args.kernel_reps}` "
                 "(bench/bench_kernels.cpp; `OMP_WAIT_POLICY=passive` as in fxic): peak loops of independent dot-product instructions with "
                 "operands in registers, and fxic's convolutions on every layer shape of the network "
                 "(768×512 image, crops of each layer).")
        L.append("")
        L.append("| peak loop, 1 core | GMAC/s |")
        L.append("|---|---:|")
        for what, g in k1["peaks"].items():
            L.append(f"| {what} | {g:.1f} |")
        L.append("")
        L.append("| path | threads | conv GMAC/s, all layers | peak of its instruction × threads | fraction |")
        L.append("|---|---:|---:|---:|---:|")
        for t, k in sorted(kern.items()):
            for isa, p in k["paths"].items():
                L.append(f"| {isa} | {t} | {p['gmacs']:.1f} | {p['peak']:.1f} | {100 * p['fraction']:.0f}% |")
        L.append("")
        peak_for = {}
        for isa, p in k1["paths"].items():
            peak_for[isa] = p["peak"]
        if k1["enc_gmac"] and k1["dec_gmac"]:
            L.append(f"Whole commands: an image is {k1['enc_gmac']:.2f} GMAC of convolution to encode and "
                     f"{k1['dec_gmac']:.2f} GMAC to decode (768×512). Convolution MACs per second of the "
                     "file-to-file time above, against the same peaks:")
            L.append("")
            L.append("| path | threads | encode GMAC/s | fraction of peak | decode GMAC/s | fraction of peak |")
            L.append("|---|---:|---:|---:|---:|---:|")
            for name, s in st.items():
                if name == "default":
                    continue
                isa, _, t = name.partition(" t")
                pk = peak_for.get(isa)
                ge = k1["enc_gmac"] / (s["enc"].mean_ms() * 1e-3)
                gd = k1["dec_gmac"] / (s["dec"].mean_ms() * 1e-3)
                fr = (lambda g: f"{100 * g / (pk * int(t)):.0f}%") if pk else (lambda g: "–")
                L.append(f"| {isa} | {t} | {ge:.1f} | {fr(ge)} | {gd:.1f} | {fr(gd)} |")
            L.append("")

    # Sizes
    if sizes:
        L.append("### Larger images")
        L.append("")
        L.append("PNG mosaics of the Kodak images above (3:2), default command, "
                 f"median of {args.size_runs} run(s); peak RSS from the kernel (`wait4`, as `/usr/bin/time -v`)"
                 + (f"; address space limited to {args.mem_limit_gb:g} GiB" if args.mem_limit_gb else "") + ".")
        L.append("")
        L.append("| size | megapixels | encode s | encode peak RSS MB | decode s | decode peak RSS MB | bpp |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for row in sizes:
            def cell(rs):
                ok = [r for r in rs if r.ok]
                if not ok:
                    return "–", "–"
                return f"{median([r.seconds for r in ok]):.2f}", f"{max(r.rss_kb for r in ok) / 1024:.0f}"
            es, er = cell(row["enc"])
            ds, dr = cell(row["dec"])
            px = row["width"] * row["height"]
            b = f"{8 * row['bytes'] / px:.3f}" if row.get("bytes") else "–"
            L.append(f"| {row['width']}×{row['height']} | {px / 1e6:.1f} | {es} | {er} | {ds} | {dr} | {b} |")
            if row["error"]:
                L[-1] = L[-1][:-1] + f" failed: {row['error']} |"
        L.append("")
    return "\n".join(L).rstrip() + "\n"


def write_section(doc: Path, section: str) -> None:
    text = doc.read_text() if doc.exists() else "# fxic speed\n"
    m = re.search(r"^## Benchmark[ \t]*\n", text, re.M)
    if m:
        nxt = re.search(r"^## ", text[m.end():], re.M)
        end = m.end() + nxt.start() if nxt else len(text)
        text = text[:m.start()] + section + ("\n" if nxt else "") + text[end:]
    else:
        w = re.search(r"^## What remains", text, re.M)
        if w:
            text = text[:w.start()] + section + "\n" + text[w.start():]
        else:
            text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


# ------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser(description="fxic benchmark driver (use scripts/bench.sh)")
    ap.add_argument("--fxic", type=Path, required=True)
    ap.add_argument("--kernels", type=Path, required=True, help="fxic_bench_kernels binary")
    ap.add_argument("--kodak", type=Path, required=True)
    ap.add_argument("--images", default=DEFAULT_IMAGES)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", default="")
    ap.add_argument("--isa", default="")
    ap.add_argument("--sizes", default="0.4,4,16,48")
    ap.add_argument("--size-runs", type=int, default=1)
    ap.add_argument("--mem-limit-gb", type=float, default=0.0)
    ap.add_argument("--torch-runs", type=int, default=10)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-codecs", action="store_true")
    ap.add_argument("--no-kernels", action="store_true")
    ap.add_argument("--kernel-macs", type=float, default=150)
    ap.add_argument("--kernel-reps", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--note", default="")
    ap.add_argument("--quick", action="store_true", help="mark the report as a quick run")
    ap.add_argument("--doc", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--command-line", default="scripts/bench.sh")
    args = ap.parse_args()

    started = time.time()
    info = machine_info(args.fxic)
    info["busy"] = busy_processes()
    if info["busy"]:
        log("WARNING: the machine is not idle (" + ", ".join(info["busy"]) +
            "); times will be slower and noisier than on an idle machine")
    images = pick_images(args.kodak, args.images)
    cores = info["usable_cores"]
    threads = [int(t) for t in args.threads.split(",") if t] or sorted({1, cores})
    with tempfile.TemporaryDirectory(prefix="fxic-bench-") as tmp:
        work = Path(tmp)
        kern = {}
        if not args.no_kernels:
            kern = bench_kernels(args.kernels, sorted(set(threads)), args.kernel_macs, args.kernel_reps)
            isas_avail = kern[min(kern)]["isas"]
        else:
            isas_avail = ["scalar"]
        isas = [i for i in args.isa.split(",") if i] or isas_avail
        unknown = [i for i in isas if i not in isas_avail and not args.no_kernels]
        if unknown:
            raise SystemExit(f"bench: ISA path(s) {', '.join(unknown)} not available here "
                             f"(available: {', '.join(isas_avail)})")
        args.best_isa = isas_avail[-1] if isas_avail[-1] in isas else isas[-1]

        fx = bench_fxic(args.fxic, images, fxic_configs(isas, threads), args.runs, work, args.timeout)
        torch_res = {} if args.no_torch else bench_torch(args.python, threads, args.torch_runs)
        codecs = {}
        if not args.no_codecs:
            ppms = {p.name: make_ppm(p, work / f"{p.stem}.ppm") for p in images}
            codecs = bench_codecs(images, ppms, args.runs, work, args.timeout)
        sizes = []
        size_list = [float(s) for s in args.sizes.split(",") if s]
        if size_list:
            limit = int(args.mem_limit_gb * 2**30) if args.mem_limit_gb else None
            sizes = bench_sizes(args.fxic, images, size_list, args.size_runs, work, args.timeout, limit)
    info["loadavg_end"] = os.getloadavg()[0]
    section = report(args, info, images, fx, kern, torch_res, codecs, sizes, threads)
    section += f"\n(The whole benchmark took {(time.time() - started) / 60:.1f} minutes.)\n"
    if args.doc:
        write_section(args.doc, section)
        log(f"wrote the Benchmark section of {args.doc}")
    else:
        sys.stdout.write(section)
    if args.json:
        raw = {
            "machine": info,
            "images": [p.name for p in images],
            "fxic": {k: {kind: {"per_image_ms": s.per_image_ms(), "max_rss_mb": s.max_rss_mb(),
                                "codec_ms": {i: median(v) for i, v in s.codec_ms.items()}}
                         for kind, s in v.items()} for k, v in fx["stats"].items()},
            "mismatches": fx["mismatches"],
            "torch": torch_res,
            "codecs": {k: {kind: {"per_image_ms": s.per_image_ms()} for kind, s in v.items()
                           if isinstance(s, Stat)} for k, v in codecs.items()},
            "kernels": {t: {k: v for k, v in r.items() if k != "raw"} for t, r in kern.items()},
            "sizes": [{"mp": r["mp"], "width": r["width"], "height": r["height"], "error": r["error"],
                       "encode_s": [x.seconds for x in r["enc"]], "decode_s": [x.seconds for x in r["dec"]],
                       "encode_rss_kb": [x.rss_kb for x in r["enc"]],
                       "decode_rss_kb": [x.rss_kb for x in r["dec"]]} for r in sizes],
        }
        args.json.write_text(json.dumps(raw, indent=1))
        log(f"raw results in {args.json}")
    return 1 if fx["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
