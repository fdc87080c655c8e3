"""Wiring kenri's Guard around a generator: every output screened, watermarked, signed, recorded.

The generator here is the demo's toy one (no model weights); a real one plugs in the same way:
any function from a prompt to an RGB array (``generate_image``) or to frames and a frame rate
(``generate_video``). Run it on a fresh data folder:

    .venv/bin/python examples/guarded_generator.py [--home /tmp/kenri-guard-demo]
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

import kenri
from kenri.catalog import import_catalog
from kenri.demo.generator import toy_image
from kenri.demo.run import write_catalog
from kenri.provenance.guard import Guard
from kenri.provenance.trace import trace_media

PROMPTS = [
    "a lighthouse at dawn",  # nothing protected: marked and released
    "Hoshimaru eating ramen",  # names a registered character: refused before generation
    "a star mascot in a meadow",  # describes it: the generator paints it; the output is blocked
]


def main(home: Path) -> list[dict]:
    app = kenri.open(home)
    with app.transaction() as tx:
        fresh = not tx.registry.holders()
    if fresh:  # the demo's rights holders, works and reference art
        import_catalog(app, write_catalog(home / "catalog"))
        with app.transaction() as tx:
            tx.registry.add_licensee("Acme AI", "US")
    guard = Guard(app, "Acme AI", generator="kenri toy generator")
    results = []
    for number, prompt in enumerate(PROMPTS):
        out = guard.generate_image(prompt, toy_image)
        row = {"prompt": prompt, "decision": out.decision, "generation": out.generation_id}
        if out.media is not None:
            path = home / f"output-{number}.png"
            path.write_bytes(out.media)
            # The same picture with its metadata stripped, as found re-uploaded somewhere.
            pixels = np.asarray(Image.open(io.BytesIO(out.media)).convert("RGB"))
            stripped = io.BytesIO()
            Image.fromarray(pixels).save(stripped, "JPEG", quality=60)
            traced = trace_media(app, stripped.getvalue())
            row.update(written=str(path), stripped_copy_traced_by=traced.route,
                       stripped_copy_generation=traced.generation)  # fmt: skip
        results.append(row)
    app.close()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    for line in main(args.home or Path(tempfile.mkdtemp(prefix="kenri-guard-demo-"))):
        print(json.dumps(line, ensure_ascii=False))
