"""``kenri demo``: register original characters from a catalog, grant, check, revoke, check."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

import kenri
from kenri.catalog import import_catalog
from kenri.demo.artwork import write_artwork

CATALOG = [
    {
        "holder": "Studio Kumo",
        "country": "JP",
        "work": "Hoshimaru Adventures",
        "work_titles": ["星丸の冒険", "ほしまるのぼうけん"],
        "character": "Hoshimaru",
        "names": ["星丸", "ほしまる", {"text": "Hoshimaru", "script": "romaji"}, "Star Boy"],
        "descriptions": [
            "a cheerful yellow five-pointed star boy with pink cheeks, big sparkling eyes, "
            "a tiny blue scarf and a trail of glitter, who rides shooting stars",
            "ピンクのほっぺと青いマフラーの、流れ星に乗る黄色い星の男の子",
        ],
        "references": ["art/hoshimaru.png"],
    },
    {
        "holder": "Studio Kumo",
        "country": "JP",
        "work": "Hoshimaru Adventures",
        "character": "Kumo-chan",
        "names": ["くもちゃん", "雲ちゃん", {"text": "Kumochan", "script": "romaji"}],
        "descriptions": [
            "a small fluffy white cloud creature with a sleepy smile, tiny blue rain boots and "
            "a single raindrop hanging from its tail"
        ],
        "references": ["art/kumo_chan.png"],
    },
    {
        "holder": "Nova Comics",
        "country": "US",
        "work": "Captain Comet",
        "character": "Captain Comet",
        "names": ["キャプテン・コメット", "Cap Comet"],
        "descriptions": [
            "a round-faced space hero in a red cape and silver helmet with a yellow comet emblem "
            "on his chest, flying on a rocket skateboard"
        ],
        "references": ["art/captain_comet.png"],
    },
    {
        "holder": "Studio Kumo",
        "country": "JP",
        "work": "Lantern Town",
        "character": None,
        "names": ["灯籠町", "Tourou-machi"],
        "descriptions": [
            "a hillside town of crooked wooden houses strung with red paper lanterns, where "
            "paper foxes guard the stone stairs"
        ],
        "references": ["art/lantern_town.png"],
    },
]


def write_catalog(folder: Path) -> Path:
    """Draw the artwork and write the demo catalog next to it."""
    write_artwork(folder / "art")
    path = folder / "catalog.jsonl"
    path.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in CATALOG), encoding="utf-8"
    )
    return path


def run_demo(home: Path, console: Console) -> dict:
    """Run the demo; returns the consent questions and answers, and the screening results."""
    if home.exists():
        shutil.rmtree(home)
    console.rule("kenri demo: consent first")
    catalog = write_catalog(home / "catalog")
    with kenri.open(home) as k:
        console.print(f"data folder: {home} (SQLite, local files)")
        first = import_catalog(k, catalog).to_dict()
        again = import_catalog(k, catalog).to_dict()
        console.print(
            f"import: {first['created']} created, {len(first['errors'])} errors; "
            f"re-import: {again['unchanged']} unchanged (idempotent)"
        )
        with k.transaction() as tx:
            grid = Table(title="Registered characters")
            for column in ("character", "work", "holder", "names"):
                grid.add_column(column)
            for c in tx.registry.characters():
                names = ", ".join(n.text for n in tx.registry.names(c.work, c))
                grid.add_row(c.name, c.work.title, c.work.holder.name, names)
            console.print(grid)

            acme = tx.registry.add_licensee("Acme Video AI", "US")
            sakura = tx.registry.add_licensee("Sakura Gen", "JP")
            hoshimaru = tx.registry.character("ほしまる")
            kumo = tx.registry.character("Kumo-chan")
            comet = tx.registry.character("Captain Comet")
            hoshi_work = tx.registry.work("星丸の冒険")
            now = datetime.now(UTC)
            checks = [("before any grant", acme, hoshimaru, "generation", "US", now)]
            tx.ledger.grant(acme, comet, ["generation"], ["*"], now - timedelta(days=30))
            training = tx.ledger.grant(
                sakura,
                hoshi_work,
                ["training"],
                ["JP"],
                now - timedelta(days=30),
                now + timedelta(days=335),
                fee="JPY 5,000,000 / year",
                terms="demo grant",
            )
            checks += [
                ("character grant", acme, comet, "generation", "US", now),
                ("other purpose", acme, comet, "training", "US", now),
                ("work grant covers its characters", sakura, kumo, "training", "JP", now),
                ("outside the territory", sakura, kumo, "training", "US", now),
                ("before the grant started", sakura, kumo, "training", "JP", now - timedelta(60)),
            ]
            tx.ledger.revoke(training, "holder withdrew consent", now + timedelta(seconds=1))
            later = now + timedelta(seconds=2)
            checks += [
                ("after revocation", sakura, hoshimaru, "training", "JP", later),
                ("history before revocation", sakura, hoshimaru, "training", "JP", now),
            ]
            console.rule("may(licensee, subject, purpose, territory, when)")
            answers = []
            for label, licensee, subject, purpose, where, when in checks:
                decision = tx.ledger.may(licensee, subject, purpose, where, when)
                answers.append(
                    {
                        "case": label,
                        "licensee": licensee.name,
                        "subject": subject.name,
                        "purpose": purpose,
                        "territory": where,
                        "at": when.isoformat(),
                    }
                    | decision.to_dict()
                )
                colour = "green" if decision.allowed else "red"
                console.print(
                    f"[bold {colour}]{decision.decision:5}[/] {label}: {licensee.name}, "
                    f"{subject.name}, {purpose}, {where}\n      {decision.reason}",
                    highlight=False,
                )
        screening = screen_outputs(k, home / "outputs", console)
    console.print("[bold]demo finished[/]: try `kenri --home " + str(home) + " character list`")
    return {"consent": answers, "screening": screening}


def generated_outputs(folder: Path) -> list[Path]:
    """Stand-ins for a generator's outputs: two edited copies of registered art, one original."""
    import numpy as np
    from PIL import Image

    from kenri.demo.artwork import captain_comet, hoshimaru

    folder.mkdir(parents=True, exist_ok=True)
    scene = np.asarray(lantern_free_scene()).copy()
    star = np.asarray(hoshimaru().rotate(15, fillcolor=(40, 60, 140)).resize((220, 220)))
    scene[60:280, 300:520] = star  # Hoshimaru, rotated and pasted into another picture
    comet = np.asarray(captain_comet())[40:360, 20:380][:, ::-1]  # cropped and mirrored
    paths = [folder / "output_1.png", folder / "output_2.png", folder / "output_3.png"]
    Image.fromarray(scene).save(paths[0])
    Image.fromarray(np.ascontiguousarray(comet)).save(paths[1])
    lantern_free_scene(seed=5).save(paths[2])
    return paths


def lantern_free_scene(seed: int = 1):
    """An original picture nobody registered: overlapping shapes on a gradient."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (560, 360), (200, 220, 235))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y, w, h = (int(v) for v in rng.integers(0, 360, 4))
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        draw.rectangle((x, y, x + w // 3, y + h // 3), fill=colour, outline=(0, 0, 0))
    return image


def screen_outputs(k: kenri.Kenri, folder: Path, console: Console) -> list[dict]:
    """Screen the outputs as Acme's generator would (Acme holds a grant for Captain Comet)."""
    console.rule("screen image: generated outputs, licensee Acme Video AI")
    results = []
    for result in k.screen_images(generated_outputs(folder), licensee="Acme Video AI"):
        view = result.to_dict()
        results.append(view)
        colour = {"block": "red", "review": "yellow", "allow": "green"}[view["decision"]]
        console.print(f"[bold {colour}]{view['decision']:5}[/] {Path(view['input']).name}")
        for match in view["matches"]:
            evidence = match["evidence"]
            why = f"grant {match['grant']['id']}" if match["grant"] else "no grant"
            console.print(
                f"      {match['character'] or match['work']} ({match['holder']}), score "
                f"{match['score']:.2f}, {evidence.get('inliers', 0)} matching keypoints"
                f"{', mirrored' if evidence.get('mirrored') else ''}, reference "
                f"{match['reference']}: {why}",
                highlight=False,
            )
    return results
