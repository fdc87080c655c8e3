"""Benchmark: tracing generated outputs back to their generation (issue 8).

Outputs: ``--outputs`` images made "by a generator" and passed through the Guard (screened,
watermarked, recorded, signed): a mix of urban photos, Manga109 covers and Pokémon artworks from
``../shared/eval`` (long side scaled to ``--side``) and the demo's toy generator; plus
``--videos`` short videos (toy pans and frames of the eval clips). Each output is then
transformed (manifest stripped, JPEG q50, resize 50%, two 10% crops, a screenshot) and traced
with ``kenri trace``'s logic; videos are re-encoded at 300 kbit/s. Negatives: pictures nobody
generated (other eval images, toy images of unused prompts), one after every fifth output,
must trace to nothing.

Reported: trace recall by route per transform, wrong generations named (goal: none), watermark
coded-bit accuracy per transform (raw, before decoding; on every ``--bits-every``-th output),
PSNR of the watermark (goal >= 40 dB), and the Guard's, the signature's and tracing's time per
item.

    .venv/bin/python bench/provenance_trace.py [--outputs 1000] [--videos 20] [--side 768]
        [--bits-every 5]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import av
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kenri  # noqa: E402
from bench.evaldata import code_version, require, run_header  # noqa: E402
from kenri.demo.generator import toy_image, toy_video  # noqa: E402
from kenri.provenance import watermark  # noqa: E402
from kenri.provenance.guard import Guard  # noqa: E402
from kenri.provenance.manifests import build_manifest, sign_media  # noqa: E402
from kenri.provenance.trace import trace_media  # noqa: E402


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(rgb: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _scaled(rgb: np.ndarray, scale: float, resample=Image.BILINEAR) -> np.ndarray:
    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, resample))


def _screenshot(rgb: np.ndarray) -> bytes:
    """Shown at 80% in a page, captured with a 12 px frame of UI around it, saved as PNG."""
    shown = _scaled(rgb, 0.8)
    h, w = shown.shape[:2]
    canvas = np.full((h + 24, w + 24, 3), 242, np.uint8)
    canvas[12 : 12 + h, 12 : 12 + w] = shown
    return _png(canvas)


TRANSFORMS = {
    "as published (manifest)": lambda data, rgb: data,
    "manifest stripped": lambda data, rgb: _png(rgb),
    "JPEG q50": lambda data, rgb: _jpeg(rgb, 50),
    "resize 50%": lambda data, rgb: _png(_scaled(rgb, 0.5, Image.LANCZOS)),
    "crop 10% (5% each side)": lambda data, rgb: _png(_crop(rgb, 0.05, 0.05, 0.05, 0.05)),
    "crop 10% (one side)": lambda data, rgb: _png(_crop(rgb, 0.0, 0.0, 0.10, 0.0)),
    "screenshot (80%, framed)": lambda data, rgb: _screenshot(rgb),
}


def _crop(rgb: np.ndarray, top: float, bottom: float, left: float, right: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[round(h * top) : h - round(h * bottom), round(w * left) : w - round(w * right)]


def _fit(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    return _scaled(rgb, side / max(h, w), Image.LANCZOS) if max(h, w) != side else rgb


def _load(path: Path, side: int) -> np.ndarray:
    image = Image.open(path)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    return _fit(np.asarray(image.convert("RGB")), side)


def outputs(count: int, side: int) -> tuple[list[tuple[str, np.ndarray]], list[np.ndarray]]:
    """(label, picture) for the generated outputs, and pictures for the negatives."""
    urban = sorted(require("images/urban100").glob("*.*"))
    covers = sorted(require("images/manga109_covers").glob("*.*"))
    art = sorted(require("images/pokemon_art").glob("*.png"))
    chosen = [("urban", p) for p in urban[:80]] + [("manga", p) for p in covers[:90]]
    chosen += [("pokemon", p) for p in art[: min(400, count // 3)]]
    made = [(kind, _load(path, side)) for kind, path in chosen][:count]
    toy = [("toy", toy_image(f"scene number {i}", (side, side * 3 // 4)))
           for i in range(max(0, count - len(made)))]  # fmt: skip
    negatives = [_load(p, side) for p in urban[80:] + covers[90:] + art[-100:]]
    negatives += [toy_image(f"never generated {i}", (side, side * 3 // 4)) for i in range(60)]
    return made + toy, negatives


def _video_sources(count: int) -> list[tuple[list[np.ndarray], float]]:
    clips = []
    for path in sorted(require("videos").rglob("*.mp4"))[: count // 2]:
        frames = []
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                frames.append(_fit(frame.to_ndarray(format="rgb24"), 512))
                if len(frames) >= 24:
                    break
        h, w = frames[0].shape[:2]
        clips.append(([f[: h - h % 2, : w - w % 2] for f in frames], 12.0))
    while len(clips) < count:
        clips.append(toy_video(f"video scene {len(clips)}"))
    return clips


def _reencode(data: bytes, bitrate: int = 300_000) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.mp4", Path(folder) / "out.mp4"
        source.write_bytes(data)
        with av.open(str(source)) as src, av.open(str(target), "w") as dst:
            stream_in = src.streams.video[0]
            stream = dst.add_stream("libx264", rate=stream_in.average_rate or 12)
            stream.width, stream.height = stream_in.width, stream_in.height
            stream.pix_fmt, stream.bit_rate = "yuv420p", bitrate
            for frame in src.decode(stream_in):
                for packet in stream.encode(frame.reformat(format="yuv420p")):
                    dst.mux(packet)
            for packet in stream.encode():
                dst.mux(packet)
        return target.read_bytes()


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", type=int, default=1000)
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--side", type=int, default=768)
    parser.add_argument("--bits-every", type=int, default=5, help="bit accuracy on every Nth")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    header = run_header("provenance_trace", code_version())
    home = Path(tempfile.mkdtemp(prefix="kenri-bench-provenance-"))
    app = kenri.open(home)
    with app.transaction() as tx:
        tx.registry.add_licensee("Bench AI", "JP")
    guard = Guard(app, "Bench AI", generator="bench")
    made, negatives = outputs(args.outputs, args.side)
    print(f"{len(made)} outputs, {len(negatives)} negatives in {home}", file=sys.stderr)

    found: dict[str, Counter] = defaultdict(Counter)
    bits: dict[str, list[float]] = defaultdict(list)
    psnrs: list[float] = []
    guard_s, sign_s, trace_s = [], [], []
    kinds = Counter()
    for number, (kind, rgb) in enumerate(made, 1):
        kinds[kind] += 1
        started = time.perf_counter()
        out = guard.finish_image(f"bench output {number}", rgb)
        guard_s.append(time.perf_counter() - started)
        marked = np.asarray(Image.open(io.BytesIO(out.media)).convert("RGB"))
        psnrs.append(_psnr(marked, rgb))
        started = time.perf_counter()
        manifest = build_manifest(out.generation_id, "allow", [], "allowed", "bench")
        sign_media(_png(marked), "image/png", manifest, guard.signing)
        sign_s.append(time.perf_counter() - started)
        for name, transform in TRANSFORMS.items():
            data = transform(out.media, marked)
            started = time.perf_counter()
            result = trace_media(app, data)
            trace_s.append(time.perf_counter() - started)
            _count(found[name], result, out.generation_id)
            if name != "as published (manifest)" and number % args.bits_every == 0:
                picture = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
                analysis = watermark.analyse(picture)
                expected = watermark.codeword(out.generation_id)
                bits[name].append(float(np.mean(np.sign(analysis["soft"]) == expected)))
        if number % 5 == 0 and number // 5 <= len(negatives):  # spread over the growing ledger
            _trace_negative(app, negatives[number // 5 - 1], found["negatives (never generated)"])
        if number % 50 == 0:
            print(f"{number}/{len(made)} {dict(found['JPEG q50'])}", file=sys.stderr)
            if args.json_out:  # a partial report, in case the run is cut short
                partial = _report(header, kinds, args, found, bits, psnrs, [], guard_s, sign_s,
                                  trace_s)  # fmt: skip
                args.json_out.write_text(json.dumps({**partial, "partial": number}, indent=1))

    video_psnr = []
    for number, (frames, fps) in enumerate(_video_sources(args.videos), 1):
        out = guard.finish_video(f"bench video {number}", frames, fps)
        # The watermark's own cost (the H.264 encode's loss is not the watermark's).
        video_psnr.append(_psnr(watermark.embed(frames[0], out.generation_id), frames[0]))
        for name, data in (("video as published (manifest)", out.media),
                           ("video re-encoded 300 kbit/s", _reencode(out.media))):  # fmt: skip
            started = time.perf_counter()
            result = trace_media(app, data)
            trace_s.append(time.perf_counter() - started)
            _count(found[name], result, out.generation_id)

    report = _report(header, kinds, args, found, bits, psnrs, video_psnr, guard_s, sign_s,
                     trace_s)  # fmt: skip
    print(json.dumps(report))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=1))
    print(_markdown(report))


def _trace_negative(app, picture: np.ndarray, counts: Counter) -> None:
    """A picture nobody generated: it must trace to nothing."""
    result = trace_media(app, _png(picture), every_route=True)
    counts["total"] += 1
    counts["named"] += result.generation is not None
    counts["watermark id read"] += (
        result.watermark is not None and result.watermark.generation is not None
    )


def _report(header, kinds, args, found, bits, psnrs, video_psnr, guard_s, sign_s, trace_s):
    report = {
        **header,
        "outputs": dict(kinds),
        "videos": args.videos,
        "side": args.side,
        "trace": {name: dict(counts) for name, counts in found.items()},
        "watermark_bit_accuracy": {k: round(statistics.mean(v), 4) for k, v in bits.items()},
        "psnr_db": {"min": round(min(psnrs), 2), "median": round(statistics.median(psnrs), 2)},
        "video_psnr_db": {"min": round(min(video_psnr), 2) if video_psnr else None},
        "guard_ms_per_image": round(1000 * statistics.median(guard_s), 1),
        "sign_ms_per_image": round(1000 * statistics.median(sign_s), 2),
        "trace_ms_median": round(1000 * statistics.median(trace_s), 1),
        "trace_ms_p99": round(1000 * float(np.percentile(trace_s, 99)), 1),
    }
    items = [c for name, c in found.items() if not name.startswith("negatives")]
    total = sum(c["total"] for c in items)
    negatives = (
        found["negatives (never generated)"]["named"]
        if "negatives (never generated)" in found
        else 0
    )
    report["overall"] = {
        "traced": sum(c["right"] for c in items),
        "total": total,
        "recall": round(sum(c["right"] for c in items) / total, 4),
        "wrong_generation_named": sum(c["wrong"] for c in items) + negatives,
    }
    return report


def _count(counts: Counter, result, expected: int) -> None:
    counts["total"] += 1
    if result.generation == expected:
        counts["right"] += 1
        counts[f"by {result.route}"] += 1
    elif result.generation is not None:
        counts["wrong"] += 1
    else:
        counts["not traced"] += 1


def _markdown(report: dict) -> str:
    lines = [
        "| transform | traced | by manifest | by watermark | by ledger | wrong | "
        "watermark bit accuracy |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, c in report["trace"].items():
        if name.startswith("negatives"):
            continue
        lines.append(
            f"| {name} | {c.get('right', 0)}/{c['total']} | {c.get('by manifest', 0)} | "
            f"{c.get('by watermark', 0)} | {c.get('by ledger', 0)} | {c.get('wrong', 0)} | "
            f"{report['watermark_bit_accuracy'].get(name, '–')} |"
        )
    negatives = report["trace"].get("negatives (never generated)", {})
    lines.append(
        f"\nNegatives: {negatives.get('named', 0)} of {negatives.get('total', 0)} never-generated "
        f"pictures were traced to a generation. Overall: {report['overall']}."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
