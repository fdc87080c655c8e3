"""``kenri trace``, ``kenri provenance ...``: which generation made a file, and is it genuine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kenri.cli.main import JsonOpt, app, state
from kenri.cli.output import guarded, out, print_json
from kenri.errors import InvalidInput

provenance_app = typer.Typer(
    help="C2PA manifests, watermarks and the generation ledger.", no_args_is_help=True
)
app.add_typer(provenance_app, name="provenance")

FileArg = Annotated[Path, typer.Argument(help="An image or video file.")]


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    return path.read_bytes()


@app.command("trace")
def trace(path: FileArg, as_json: JsonOpt = False) -> None:
    """Find the generation behind a file: its C2PA manifest, else its watermark, else a
    perceptual match against the generation ledger. Exit 3 when nothing traces it."""
    from kenri.provenance.trace import trace_media

    def run() -> None:
        result = trace_media(state.open(), _read(path)).to_dict()
        if as_json:
            print_json(result)
        elif result["route"]:
            out.print(f"generation {result['generation']} (route: {result['route']}, "
                      f"confidence {result['confidence']:.2f})")  # fmt: skip
        else:
            out.print("no generation found")
        if not as_json:
            for note in result["notes"]:
                out.print(f"note: {note}")
        if result["route"] is None:
            raise typer.Exit(3)

    guarded(as_json, run)


@provenance_app.command("verify")
def verify(path: FileArg, as_json: JsonOpt = False) -> None:
    """Check every route: manifest validity and trust, watermark presence, ledger match.
    Exit 2 when a manifest is present but does not verify (tampered or untrusted)."""
    from kenri.provenance.trace import trace_media

    def run() -> None:
        result = trace_media(state.open(), _read(path), every_route=True).to_dict()
        manifest = result["manifest"]
        report = {
            "file": str(path),
            "manifest": manifest and {k: manifest[k] for k in ("state", "trusted", "failures",
                                                                 "signer")},
            "manifest_generation": manifest and (manifest["assertions"].get(
                "org.kenri.decision") or {}).get("generation"),
            "watermark": result["watermark"],
            "ledger": result["ledger"][:3],
            "generation": result["generation"],
            "route": result["route"],
            "notes": result["notes"],
        }  # fmt: skip
        if as_json:
            print_json(report)
        else:
            for line in _verify_lines(report):
                out.print(line)
        if manifest is not None and not manifest["trusted"]:
            raise typer.Exit(2)

    guarded(as_json, run)


def _verify_lines(report: dict) -> list[str]:
    manifest, mark, ledger = report["manifest"], report["watermark"] or {}, report["ledger"]
    lines = [f"manifest: {manifest['state'] if manifest else 'none'}"]
    if manifest and manifest["failures"]:
        lines[0] += f" ({', '.join(manifest['failures'])})"
    lines.append(f"watermark: {mark['id'] if mark.get('id') is not None else 'none'}")
    lines.append(
        f"ledger: generation {ledger[0]['generation']}, PDQ distance {ledger[0]['pdq_distance']}"
        if ledger
        else "ledger: no match"
    )
    return lines + [f"note: {note}" for note in report["notes"]]


@provenance_app.command("test-ca")
def test_ca(
    folder: Annotated[Path, typer.Argument(help="Where to write the CA and signing files.")],
    as_json: JsonOpt = False,
) -> None:
    """Make a self-signed root CA and an ES256 signing certificate (for tests and demos: use
    KENRI_SIGNING_CHAIN / KENRI_SIGNING_KEY / KENRI_TRUST_ANCHORS to point kenri at them)."""
    from kenri.provenance.testca import make_test_ca

    def run() -> None:
        files = make_test_ca(folder)
        view = {"chain": str(files.chain), "key": str(files.key), "root": str(files.root)}
        print_json(view) if as_json else out.print(view)

    guarded(as_json, run)


@provenance_app.command("generate")
def generate(
    prompt: Annotated[str, typer.Argument(help="What to generate.")],
    licensee: Annotated[str, typer.Option(help="The licensee generating.")],
    output: Annotated[Path, typer.Option("--out", help="Where to write the marked output.")],
    video: Annotated[bool, typer.Option(help="A 2 s video instead of an image.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run the demo's toy generator through the Guard: screened, watermarked, signed, recorded."""
    from kenri.demo.generator import toy_image, toy_video
    from kenri.provenance.guard import Guard

    def run() -> None:
        guard = Guard(state.open(), licensee, generator="kenri toy generator")
        result = (guard.generate_video(prompt, toy_video) if video
                  else guard.generate_image(prompt, toy_image))  # fmt: skip
        if result.media is not None:
            output.write_bytes(result.media)
        view = {**result.to_dict(), "written": str(output) if result.media else None}
        if as_json:
            print_json(view)
        else:
            out.print(f"{view['decision']}: generation {view['generation']}"
                      + (f", written to {output}" if result.media else ""))  # fmt: skip
        if result.media is None:
            raise typer.Exit(2)

    guarded(as_json, run)
