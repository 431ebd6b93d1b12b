"""What an upload costs: time and memory per request for worst-case images, then eight at once.

    python bench/uploads.py                 # every kind, 3 uploads each, then 8 at once through gunicorn
    python bench/uploads.py --repeat 1 --no-server   # the per-request table only (about a minute)

1. Per request: for each kind of image below, --repeat distinct uploads (the digit drawn a
   little differently each time), each preprocessed (`image_bytes_to_mnist`: decode, ink,
   28x28) in a fresh Python process after a warm-up, so that its peak resident memory
   (VmHWM, reset through /proc/self/clear_refs) is the request's own: "extra MiB" is that
   peak less the resident memory just before. Time is wall-clock for the same call.
2. Eight at once: the Dockerfile's CMD (gunicorn.conf.py's sizing: cores // 2 workers x 4
   threads), then --rounds rounds of 8 concurrent POST /api/analyze uploads of the costliest
   kind from step 1 (every upload distinct, so the service's cache never answers); reports
   the worker's resident memory before, its peak during the rounds (VmHWM, reset before them)
   and the requests' latency.
Results: markdown tables, and bench/results/uploads-*.json.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image, ImageDraw

from bench import _common as common

# name: (width, height, how it is written). Each is the worst of its kind that the server accepts.
KINDS = {
    "PNG 8-bit grey 4800x4800 (a dark 7 on light paper)": (4800, 4800, "png-L"),
    "PNG RGBA 3500x3500 (a canvas export: strokes on transparent; 47 MB inflated)": (3500, 3500, "png-RGBA"),
    "PNG 16-bit grey 4800x4800": (4800, 4800, "png-I;16"),
    "PNG RGB 4800x3400 (47 MB inflated, the most a colour PNG may)": (4800, 3400, "png-RGB"),
    "PNG 16-bit RGBA 3400x3400 (decoded whole: 44 MiB)": (3400, 3400, "png-RGBA16"),
    "JPEG 6000x4000 photo (uneven light, noise)": (6000, 4000, "jpeg"),
    "JPEG progressive 4000x3000 (coefficients kept: 34 MiB)": (4000, 3000, "jpeg-progressive"),
    "GIF 4800x4800": (4800, 4800, "gif"),
    "WebP 1700x1700 (decoded whole: 44 MiB)": (1700, 1700, "webp"),
}


def page(width: int, height: int, seed: int) -> Image.Image:
    """Light, unevenly lit paper (8-bit grey) with a dark 7 whose shape depends on `seed`."""
    rng = np.random.default_rng(seed)
    light = np.linspace(200, 240, width, dtype=np.float32)[None, :].repeat(height, 0)
    image = Image.fromarray(light.astype(np.uint8))
    side = min(width, height)
    corners = np.array([(0.3, 0.25), (0.7, 0.25), (0.45, 0.8)]) + rng.uniform(-0.04, 0.04, (3, 2))
    points = [(x * side + (width - side) / 2, y * side + (height - side) / 2) for x, y in corners]
    ImageDraw.Draw(image).line(points, fill=30, width=max(3, side // 60), joint="curve")
    return image


def png_16bit_rgba(grey: Image.Image) -> bytes:
    """Pillow cannot write 16-bit colour PNGs: rows written here, filter 0, opaque alpha."""
    samples = np.asarray(grey, np.uint16) * 257
    pixels = np.stack([samples, samples, samples, np.full_like(samples, 65535)], axis=-1).astype(">u2")
    rows = np.concatenate([np.zeros((grey.height, 1), np.uint8), pixels.reshape(grey.height, -1).view(np.uint8)], 1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", grey.width, grey.height, 16, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + chunk(b"IEND", b""))


def make_upload(how: str, width: int, height: int, seed: int) -> bytes:
    grey = page(width, height, seed)
    buffer = io.BytesIO()
    if how == "png-L":
        grey.save(buffer, "PNG")
    elif how == "png-RGBA":  # black strokes, the rest transparent
        ink = Image.eval(grey, lambda v: 255 if v < 128 else 0)
        canvas = Image.new("RGBA", grey.size, (0, 0, 0, 0))
        canvas.putalpha(ink)
        canvas.save(buffer, "PNG")
    elif how == "png-I;16":
        Image.fromarray(np.asarray(grey, np.uint16) * 257).save(buffer, "PNG")
    elif how == "png-RGB":
        grey.convert("RGB").save(buffer, "PNG")
    elif how == "png-RGBA16":
        return png_16bit_rgba(grey)
    elif how.startswith("jpeg"):
        noise = np.random.default_rng(seed).normal(0, 6, (height, width)).astype(np.float32)
        photo = np.clip(np.asarray(grey, np.float32) * np.linspace(0.6, 1.0, width)[None, :] + noise, 0, 255)
        Image.fromarray(photo.astype(np.uint8)).convert("RGB").save(
            buffer, "JPEG", quality=85, progressive=how == "jpeg-progressive")
    elif how == "gif":
        grey.convert("P").save(buffer, "GIF")
    elif how == "webp":
        grey.convert("RGB").save(buffer, "WEBP", quality=85)
    return buffer.getvalue()


# The child: one upload, measured in a fresh process.
CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
from app.uploads.preprocess import image_bytes_to_mnist

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

image_bytes_to_mnist(open(sys.argv[3], "rb").read())  # warm-up: imports, Pillow's plugins
data = open(sys.argv[1], "rb").read()
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # VmHWM := VmRSS
before = status("VmRSS")
start, cpu = time.perf_counter(), time.process_time()
result = image_bytes_to_mnist(data)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "extra_mib": status("VmHWM") - before,
                  "ink": float(result.sum())}))
"""


def measure_one(path: Path, warm: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", CHILD, str(path), str(common.PROJECT_ROOT), str(warm)],
                            capture_output=True, text=True, timeout=300, env=env)
    if result.returncode:
        raise RuntimeError(f"{path.name}: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def per_request(folder: Path, repeat: int) -> dict:
    warm = folder / "warm.png"
    page(200, 200, 99).save(warm)
    table = {}
    for name, (width, height, how) in KINDS.items():
        runs, sizes = [], []
        for seed in range(repeat):
            path = folder / f"{how}-{seed}.bin"
            data = make_upload(how, width, height, seed)
            path.write_bytes(data)
            sizes.append(len(data))
            runs.append(measure_one(path, warm))
        seconds = [run["seconds"] for run in runs]
        table[name] = {"how": how, "file_kb": round(max(sizes) / 1024), "median_s": float(np.median(seconds)),
                       "max_s": max(seconds), "median_cpu_s": float(np.median([run["cpu_seconds"] for run in runs])),
                       "extra_mib": max(run["extra_mib"] for run in runs),
                       "files": [str(folder / f"{how}-{seed}.bin") for seed in range(repeat)]}
        row = table[name]
        print(f"  {name}: {row['file_kb']} KB, {row['median_s'] * 1000:.0f} ms "
              f"({row['median_cpu_s'] * 1000:.0f} ms of CPU), +{row['extra_mib']:.0f} MiB", flush=True)
    return table


def worker_status(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def concurrent(uploads: list[bytes], rounds: int, clients: int = 8) -> dict:
    """The production server, then `rounds` x `clients` simultaneous uploads."""
    port = common.free_port()
    env = {**os.environ, "PORT": str(port), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("BIND", None)
    log = tempfile.NamedTemporaryFile(prefix="uploads-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115 - the server's
    server = subprocess.Popen(common.resolve_program(common.dockerfile_cmd()), cwd=common.PROJECT_ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        common.wait_ready(base, timeout=300, process=server)
        workers = common.children_of(server.pid)
        for label in range(10):  # warm-up: every routing path and the JSON encoder
            common.post_json(f"{base}/api/analyze", {"pixels": common.gallery_pixels(label % 10).tolist()})
        idle = {pid: worker_status(pid, "VmRSS") for pid in workers}
        for pid in workers:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        latencies, statuses, lock = [], [], threading.Lock()

        def send(data: bytes) -> None:
            boundary = "capsnetbench"
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x\"\r\n"
                    f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
            import urllib.error
            import urllib.request
            request = urllib.request.Request(f"{base}/api/analyze", data=body, method="POST",
                                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            with lock:
                latencies.append(time.perf_counter() - start)
                statuses.append(status)

        for round_ in range(rounds):
            threads = [threading.Thread(target=send, args=(uploads[(round_ * clients + i) % len(uploads)],))
                       for i in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        peak = {pid: worker_status(pid, "VmHWM") for pid in workers}
        after = {pid: worker_status(pid, "VmRSS") for pid in workers}
        return {"workers": len(workers), "idle_mib": max(idle.values()), "peak_mib": max(peak.values()),
                "after_mib": max(after.values()), "requests": len(statuses),
                "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
                "median_s": float(np.median(latencies)), "max_s": max(latencies)}
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
        log.close()
        os.unlink(log.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="distinct uploads of each kind")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 8 simultaneous uploads")
    parser.add_argument("--no-server", action="store_true", help="skip the 8-at-once part (no TensorFlow)")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    results: dict = {"environment": common.environment()}
    with tempfile.TemporaryDirectory(prefix="capsnet-uploads-") as folder:
        print("per request (a fresh process each):", flush=True)
        table = per_request(Path(folder), args.repeat)
        results["per_request"] = {k: {kk: vv for kk, vv in v.items() if kk != "files"} for k, v in table.items()}
        print(common.markdown_table(
            ["upload", "file KB", "median ms", "max ms", "CPU ms (median)", "extra MiB (peak)"],
            [[name, row["file_kb"], row["median_s"] * 1000, row["max_s"] * 1000, row["median_cpu_s"] * 1000,
              row["extra_mib"]] for name, row in table.items()]))
        if not args.no_server:
            worst = max(table, key=lambda name: table[name]["extra_mib"])
            uploads = [Path(path).read_bytes() for path in table[worst]["files"]]
            if len(uploads) < 8:  # eight distinct uploads: more variants of the same kind
                width, height, how = KINDS[worst]
                uploads += [make_upload(how, width, height, 100 + i) for i in range(8 - len(uploads))]
            print(f"\n8 at once through gunicorn: {worst}", flush=True)
            burst = concurrent(uploads, args.rounds)
            results["concurrent"] = {"upload": worst, **burst}
            print(common.markdown_table(
                ["workers", "worker MiB idle", "worker MiB peak", "after", "requests", "statuses", "median ms", "max ms"],
                [[burst["workers"], burst["idle_mib"], burst["peak_mib"], burst["after_mib"], burst["requests"],
                  json.dumps(burst["statuses"]), burst["median_s"] * 1000, burst["max_s"] * 1000]]))
    if not args.no_save:
        print("raw figures:", common.write_results("uploads", results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
