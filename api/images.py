"""Photos decoded within a memory budget and re-encoded with nothing but their pixels.

Re-encoding the pixels is the only reliable way to drop every metadata block a phone or an
editor writes (EXIF with GPS, XMP, the ICC colour profile, PNG text chunks, JPEG comments:
each can carry text); the EXIF orientation is applied first so the picture still stands the
right way.

Decoding is where a small file becomes large: a 154 kB PNG of 6300x6300 RGBA pixels is 159 MB
once decoded. Pillow's ``Image.open`` reads only the header, so the decoded size (width x
height x bands x bytes per band) is known before any pixel is: pictures over
:data:`DECODE_BUDGET_BYTES` are refused with their numbers. The budget admits what phones
send: a 12 MP photo is 36.6 MB of RGB (48.8 MB with alpha), a 16 MP one 47.8 MB, a long
1080-pixel-wide screenshot up to 15,000 pixels tall. JPEG, the format of phone cameras, is
scaled down while it is decoded (libjpeg decodes at 1/2, 1/4 or 1/8 size for the cost of the
smaller picture), so a 48 or 50 MP photo (8000x6000: 144 MB at full size) is taken at half
size, 4000x3000, which is still more than a case file needs. PNG and WebP cannot be scaled
while decoding and must fit the budget as they are.

Pillow keeps a 3-band picture in 4 bytes a pixel, and a rotation (EXIF orientation) or a
conversion to RGB needs a second buffer, so one picture can hold up to about 2.7 times the
budget at its peak (4/3 x 2); the callers bound how many are decoded at once
(``api.attachments.MAX_DECODES``). The colour profile is dropped, not applied: a photo taken
in Display P3 shows slightly less saturated, the price of never parsing a sender's ICC data.
"""

from __future__ import annotations

import io

from PIL import Image, ImageMode, ImageOps, UnidentifiedImageError

from api.errors import Invalid, TooLarge

MAX_PHOTO_BYTES = 8_000_000
DECODE_BUDGET_BYTES = 64 * 2**20  # 67.1 MB of decoded pixels: a 16 MP RGBA picture; see the module's text
JPEG_SCALES = (1, 2, 4, 8)  # what libjpeg can decode at: full size, 1/2, 1/4, 1/8
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
KEPT_INFO = ("transparency",)  # pixel meaning (a PNG's transparent colour), not metadata


def decoded_bytes(width: int, height: int, mode: str) -> tuple[int, int]:
    """(bands, bytes) of a picture once decoded: width x height x bands x bytes per band.

    >>> decoded_bytes(6300, 6300, "RGBA")
    (4, 158760000)
    """
    desc = ImageMode.getmode(mode)
    return len(desc.bands), width * height * len(desc.bands) * int(desc.typestr[-1])


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _fit_budget(img: Image.Image) -> None:
    """Refuse (naming the numbers) a picture whose pixels would not fit the budget; a JPEG is
    first set to decode at the largest of 1/2, 1/4, 1/8 size that fits."""
    w, h = img.size
    bands, size = decoded_bytes(w, h, img.mode)
    if size > DECODE_BUDGET_BYTES and img.format == "JPEG":
        fits = [s for s in JPEG_SCALES[1:] if decoded_bytes(-(-w // s), -(-h // s), img.mode)[1]
                <= DECODE_BUDGET_BYTES]
        if fits:
            img.draft(img.mode, (w // fits[0], h // fits[0]))  # libjpeg scales while decoding
    if decoded_bytes(*img.size, img.mode)[1] > DECODE_BUDGET_BYTES:
        raise Invalid(f"{w}×{h} pixels × {bands} bands decode to {_mb(size)}; a photo may decode to at most "
                      f"{_mb(DECODE_BUDGET_BYTES)} (a 12-megapixel photo is 36.6 MB; a JPEG is decoded at 1/2, "
                      f"1/4 or 1/8 size to fit): send a smaller picture", field="file")


def clean_image(data: bytes) -> tuple[bytes, str, int, int]:
    """The picture in ``data`` re-encoded without metadata: (bytes, media type, width, height).

    Raises ``TooLarge`` (413) for a file over :data:`MAX_PHOTO_BYTES`, ``Invalid`` (422,
    ``field="file"``) for anything else that is not a photo this can take.
    """
    if len(data) > MAX_PHOTO_BYTES:
        raise TooLarge(f"a photo may be at most {MAX_PHOTO_BYTES // 1_000_000} MB", field="file")
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as img:  # the header only
            _fit_budget(img)
            kind = img.format
            img.load()
            ImageOps.exif_transpose(img, in_place=True)  # no copy when it stands right already
            upright = img.convert("RGB") if kind == "JPEG" and img.mode not in ("RGB", "L") else img
            upright.info = {k: v for k, v in upright.info.items() if k in KEPT_INFO}
            out = io.BytesIO()
            upright.save(out, format=kind, icc_profile=None, exif=b"",
                         **({"quality": 90} if kind in ("JPEG", "WEBP") else {}))
            return out.getvalue(), FORMATS[kind], upright.width, upright.height
    except Image.DecompressionBombError:
        raise Invalid(f"more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels: not a photo", field="file") from None
    except UnidentifiedImageError:
        raise Invalid("not a JPEG, PNG or WebP photo (GIF, HEIC and other formats are not accepted)",
                      field="file") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise Invalid(f"not a readable picture ({type(e).__name__}): the file is damaged or truncated",
                      field="file") from None
