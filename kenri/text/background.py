"""Ordinary prompts that name nothing protected, made from templates (English and Japanese).

They give every registered description a baseline: how similar it is to prompts in general.
A description of "a girl with long hair in a school uniform" is close to many ordinary prompts;
the baseline keeps it from blocking them, while a description with distinctive traits keeps its
margin. They are also the background documents for term weights (a word every prompt uses
weighs little). Generated, not collected: nothing here comes from an evaluation set.
"""

from __future__ import annotations

import random


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(";")]


SUBJECTS = _items(
    "a dog; a cat; a woman; a man; a child; an old man; an old woman; a robot; a dragon; "
    "a knight; a girl; a boy; a bird; a horse; a car; a house; a city street; a mountain; a tree; "
    "a flower; a ship; a castle; a monster; a superhero; a princess; a wizard; a soldier; a mouse; "
    "a bear; a fish; a cartoon character; an anime girl; a schoolgirl; a samurai; a ninja; "
    "a fox; a rabbit; a turtle; an alien; a spaceship; a teacher; a chef; a musician; a fairy"
)
ATTRIBUTES = _items(
    "wearing a red hat; with blue eyes; in a green dress; with a sword; holding an umbrella; "
    "with long hair; in armor; with wings; smiling; running; flying; sleeping; in a suit; "
    "with glasses; with a long tail; in a school uniform; with a backpack; wearing a cape; "
    "with yellow fur; with big ears; in a kimono; holding a book; with a magic wand; eating"
)
SCENES = _items(
    "in a park; on the beach; in space; in a forest; at night; in the rain; in a futuristic city; "
    "underwater; in a castle; on a mountain; in a kitchen; in the desert; in a classroom; "
    "at a festival; in the snow; on a rooftop; in a field of flowers; in a cafe"
)
STYLES = _items(
    "a photo; an oil painting; anime style illustration; a watercolor; a 3d render; pixel art; "
    "digital art; a pencil sketch; a cartoon drawing; a cinematic still; a children's book page"
)
JA_SUBJECTS = _items(
    "犬; 猫; 女の子; 男の子; 老人; ロボット; ドラゴン; 騎士; 鳥; 馬; 城; 魔法使い; 侍; 忍者; 狐; 兎"
)
JA_SCENES = _items(
    "公園で; 海辺で; 宇宙で; 森の中で; 夜の街で; 雨の中で; 雪の中で; 教室で; 山の上で"
)
JA_STYLES = _items("写真; 油絵; アニメ風イラスト; 水彩画; 3Dレンダリング; ドット絵")


def background_prompts(count: int = 240, seed: int = 0) -> list[str]:
    """``count`` prompts, about one in six Japanese; the same list for the same arguments."""
    rng = random.Random(seed)
    prompts = []
    for i in range(count):
        if i % 6 == 5:
            subject, scene, style = (
                rng.choice(JA_SUBJECTS),
                rng.choice(JA_SCENES),
                rng.choice(JA_STYLES),
            )
            prompts.append(f"{scene}{subject}の{style}")
        else:
            subject, attribute = rng.choice(SUBJECTS), rng.choice(ATTRIBUTES)
            scene, style = rng.choice(SCENES), rng.choice(STYLES)
            prompts.append(f"{style} of {subject} {attribute} {scene}")
    return prompts
