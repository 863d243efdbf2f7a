"""PNG rendering of a Benxi claim's graph: not empty, in the overlay's colours, Chinese legible.

Chinese is checked by rendering, not assumed: the same drawing is rendered again
with fontconfig told to reject every font that covers Chinese (what a machine
without fonts-noto-cjk has), where the labels become tofu boxes; the real
rendering must differ from it in the label's pixels.  On a machine without the
CJK font both renderings are the same tofu and the test fails.
"""

from __future__ import annotations

import io
import os
import subprocess

import pytest
from PIL import Image

from helpers import EXAMPLES, POLICIES
from yibao.api import evaluate_claims, load_engine, load_policy, read_claims_file
from yibao.compiler.graph import Node, Op, Phase, build_graph
from yibao.compiler.payloads import InputPayload
from yibao.explain import colour
from yibao.explain.graph import graph_dot
from yibao.explain.overlay import overlay_from_result


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def _count(image: Image.Image, hex_colour: str) -> int:
    wanted = _rgb(hex_colour)
    return sum(n for n, rgb in image.getcolors(maxcolors=1 << 24) if rgb == wanted)


def _fonts_covering_chinese() -> list[str]:
    listing = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             check=True).stdout
    return sorted({line.split(":")[0].strip() for line in listing.splitlines() if line.strip()})


@pytest.fixture(scope="module")
def without_chinese_fonts(tmp_path_factory):
    """A fontconfig file: this machine's fonts less every one that covers Chinese."""
    folder = tmp_path_factory.mktemp("fontconfig")
    system = os.environ.get("FONTCONFIG_FILE", "/etc/fonts/fonts.conf")
    rejected = "".join(f"<glob>{path}</glob>" for path in _fonts_covering_chinese())
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<include ignore_missing="yes">{system}</include>'
        f"<cachedir>{folder / 'cache'}</cachedir>"
        f"<selectfont><rejectfont>{rejected}</rejectfont></selectfont></fontconfig>",
        encoding="utf-8")
    return config


def _png(dot, fontconfig=None, mode: str = "RGB") -> Image.Image:
    saved = os.environ.get("FONTCONFIG_FILE")
    if fontconfig is not None:
        os.environ["FONTCONFIG_FILE"] = str(fontconfig)
    try:
        return Image.open(io.BytesIO(dot.pipe(format="png"))).convert(mode)
    finally:
        if saved is None:
            os.environ.pop("FONTCONFIG_FILE", None)
        else:
            os.environ["FONTCONFIG_FILE"] = saved


@pytest.fixture(scope="module")
def benxi_claim_dot():
    engine = load_engine(POLICIES / "benxi-2023.policy")
    outcomes = evaluate_claims(engine, read_claims_file(EXAMPLES / "benxi-2023.jsonl"), trace=True)
    bx7 = next(o for o in outcomes if o.claim_id == "bx-0007")
    return graph_dot(engine.evaluators[bx7.policy].graph, overlay_from_result(bx7))


def test_benxi_claim_png_is_a_full_drawing_in_the_overlays_colours(benxi_claim_dot,
                                                                   without_chinese_fonts):
    image = _png(benxi_claim_dot)
    width, height = image.size
    # ~45 labelled nodes in 7 clusters: a drawing, not an error stub or a blank page.
    assert 1500 < width < 5000 and 2000 < height < 6000
    assert image.getpixel((2, 2)) == (255, 255, 255)
    assert _count(image, colour.PATH) > 20_000            # the path taken: borders, edges, figures
    assert _count(image, colour.UNTAKEN_FILL) > 20_000    # 精神障碍床日定额救助 not applied, greyed
    assert _count(image, colour.INPUT_FILL) > 20_000      # claim fields, upstream payouts
    assert _count(image, colour.OUTPUT_FILL) > 20_000     # payouts, totals, alerts
    ink = sum(n for n, rgb in image.getcolors(maxcolors=1 << 24) if sum(rgb) < 200)
    assert ink > 20_000                                    # black text of labels and formulas
    # Without a Chinese font every label is tofu, of other widths: another drawing.
    tofu = _png(benxi_claim_dot, without_chinese_fonts)
    assert tofu.size != image.size


def test_the_cjk_font_the_drawings_name_is_installed():
    family = subprocess.run(["fc-match", "-f", "%{family}", colour.CJK_FONT],
                            capture_output=True, text=True, check=True).stdout
    assert "Noto Sans CJK SC" in family.split(",")
    assert any("NotoSansCJK" in path for path in _fonts_covering_chinese())


def _one_label(text: str):
    policy = load_policy(POLICIES / "benxi-2023.policy").latest
    # A declared claim field is drawn under its own name (explain/trace_zh.py node_label).
    return graph_dot(build_graph(policy, [Node(f"claim.{text}", Op.INPUT, Phase.CLAIM,
                                                payload=InputPayload(text))]))


def test_chinese_labels_render_as_glyphs_not_tofu(without_chinese_fonts):
    dot = _one_label("基本救助支付 倾斜救助")
    real = _png(dot, mode="L")
    tofu = _png(dot, without_chinese_fonts, mode="L")
    inked_real = sum(real.histogram()[:128])
    assert inked_real > 500                                # something was drawn
    # The same label drawn with tofu boxes must differ, pixel for pixel.
    assert real.size != tofu.size or real.tobytes() != tofu.tobytes()
    assert inked_real != sum(tofu.histogram()[:128])
