"""Uploads that are safe to publish: checked by content, never by name.

Images (JPEG, PNG, WebP) are decoded by Pillow within a pixel bound and re-encoded, which drops
EXIF and GPS and any bytes hidden after the image (polyglots). The re-encoded bytes are what is
stored, published and hashed. Receipts may also be PDF, checked by their structure and size.
Everything else is refused with a message a person can act on.
"""

import io
import re
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 48-megapixel phone photo is fine; a decompression bomb is not
LONGEST_SIDE = 1600
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Active content has no place in a receipt.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
PDF_FORBIDDEN = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA|OpenAction)\b")


@dataclass(frozen=True)
class CleanFile:
    data: bytes
    content_type: str


def _read(upload: UploadedFile | bytes) -> bytes:
    if isinstance(upload, bytes):
        data = upload
    else:
        if upload.size and upload.size > MAX_UPLOAD_BYTES:
            raise _too_big()
        upload.seek(0)
        data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_big()
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    return data


def _too_big() -> ValidationError:
    return ValidationError(
        _("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
        code="too_big",
    )


def clean_image(upload: UploadedFile | bytes, *, longest_side: int = LONGEST_SIDE) -> CleanFile:
    """Decode, bound, re-encode. Returns JPEG (or PNG for images with transparency)."""
    data = _read(upload)
    try:
        with warnings.catch_warnings():
            # Pillow warns between its limit and twice it; here any excess is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
        with probe:
            if probe.format not in IMAGE_FORMATS:
                raise ValidationError(
                    _("Only JPEG, PNG and WebP photos are accepted."), code="image_format"
                )
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise _too_many_pixels()
            probe.load()
            image = ImageOps.exif_transpose(probe)  # keep the photo upright once EXIF is gone
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            _("This file is not a photo we can read (JPEG, PNG or WebP)."), code="not_image"
        ) from None
    image.thumbnail((longest_side, longest_side))
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image.save(out, "PNG", optimize=True)
        return CleanFile(out.getvalue(), "image/png")
    image.convert("RGB").save(out, "JPEG", quality=80, optimize=True, progressive=True)
    return CleanFile(out.getvalue(), "image/jpeg")


def _too_many_pixels() -> ValidationError:
    return ValidationError(
        ngettext(
            "The picture is too large (more than %(mp)s megapixel).",
            "The picture is too large (more than %(mp)s megapixels).",
            MAX_PIXELS // 1_000_000,
        )
        % {"mp": MAX_PIXELS // 1_000_000},
        code="too_many_pixels",
    )


def clean_pdf(data: bytes) -> CleanFile:
    if not data.startswith(b"%PDF-1.") and not data.startswith(b"%PDF-2."):
        raise ValidationError(_("This file is not a PDF."), code="not_pdf")
    if b"%%EOF" not in data[-1024:]:
        raise ValidationError(_("This PDF is damaged or incomplete."), code="bad_pdf")
    if PDF_FORBIDDEN.search(data):
        raise ValidationError(
            _("This PDF contains scripts or attachments; export the receipt again as a plain PDF."),
            code="active_pdf",
        )
    return CleanFile(data, "application/pdf")


def clean_receipt(upload: UploadedFile | bytes) -> CleanFile:
    """A receipt: a photo or a scan (re-encoded), or a plain PDF (kept as it is)."""
    data = _read(upload)
    if data.startswith(b"%PDF-"):
        return clean_pdf(data)
    return clean_image(data)
