"""Generated pictures for the demo: a shop receipt and delivery photos (no real people)."""

import io

from PIL import Image, ImageDraw


def receipt(lines: list[str], total: str) -> bytes:
    image = Image.new("RGB", (360, 120 + 22 * len(lines)), (250, 250, 244))
    draw = ImageDraw.Draw(image)
    draw.text((20, 16), "DORDOI MARKET  /  RECEIPT", fill=(20, 20, 20))
    for n, line in enumerate(lines):
        draw.text((20, 52 + 22 * n), line, fill=(40, 40, 40))
    draw.line((20, 60 + 22 * len(lines), 340, 60 + 22 * len(lines)), fill=(0, 0, 0))
    draw.text((20, 72 + 22 * len(lines)), f"TOTAL {total}", fill=(0, 0, 0))
    return _jpeg(image)


def delivery_photo(seed: int) -> bytes:
    """A van being unloaded: sky, ground and stacked boxes, varied by `seed`."""
    image = Image.new("RGB", (640, 480), (150 + seed * 10 % 60, 190, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 480), fill=(170, 150, 110))
    draw.rectangle((60, 200, 360, 330), fill=(235, 235, 235), outline=(60, 60, 60))
    for n in range(3 + seed % 3):
        x = 390 + 55 * (n % 4)
        y = 330 - 45 * (n // 4) - 45
        draw.rectangle((x, y, x + 50, y + 42), fill=(180, 130, 70), outline=(90, 60, 30))
    draw.text((20, 20), f"Batken region, delivery photo {seed}", fill=(20, 20, 60))
    return _jpeg(image)


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return out.getvalue()
