"""Uploads that are safe to publish: checked by content, never by name.

Images (JPEG, PNG, WebP) are decoded by Pillow within a pixel bound and a new image is built
from the decoded pixels alone, so no EXIF (GPS), XMP, JPEG comment, PNG text chunk, ICC profile
or bytes hidden after the image (polyglots) can follow them out. Receipts may also be PDF: the
PDF is never published (its metadata names people, and its scripts and links are not ours to
vet); its pages are rendered to one image by pdfium and that image is published. The published
bytes are what is stored as evidence and hashed into the ledger. Everything else is refused
with a message a person can act on.
"""

import contextlib
import io
import threading
import warnings
from dataclasses import dataclass, field

import pypdfium2 as pdfium
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 48-megapixel phone photo is fine; a decompression bomb is not
LONGEST_SIDE = 1600
# MPO is a JPEG with further pictures after it (many Samsung phones and iPhone portrait shots
# write it); only its first picture is decoded and published.
IMAGE_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
MAX_PDF_PAGES = 10
MAX_PDF_SCALE = 3  # about 216 dpi: enough to read a receipt, no need to blow up a tiny page
PDF_PAGE_GAP = 12  # grey pixels between pages, so readers see where one page ends
_SRGB = ImageCms.createProfile("sRGB")
_PDFIUM = threading.Lock()  # pdfium is not thread-safe; gunicorn may run threads


@dataclass(frozen=True)
class CleanFile:
    """`data` is what gets published. `private_original` is the upload as it came (a receipt's
    PDF), for the caller to keep private; it is never published or hashed into the ledger."""

    data: bytes
    content_type: str
    private_original: bytes = field(default=b"", repr=False)


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
    return _encode(_pixels_only(image))


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new RGB or RGBA image holding the decoded pixels and nothing else.

    Saving the decoded image itself would let Pillow write back what it read into `info`: a
    JPEG's COM comment, an ICC profile (whose description is free text), EXIF, XMP. A fresh
    image has an empty `info`. Colours described by an embedded profile are converted to sRGB,
    which is what a browser assumes for an image without one."""
    transparent = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    mode = "RGBA" if transparent else "RGB"
    profile = image.info.get("icc_profile")
    if image.mode not in (mode, "CMYK"):
        image = image.convert(mode)
    if profile:
        # A broken or unusual profile: keep the colours as they are, drop the profile.
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError, TypeError):
            image = ImageCms.profileToProfile(
                image, ImageCms.ImageCmsProfile(io.BytesIO(profile)), _SRGB, outputMode=mode
            )
    image = image.convert(mode)
    return Image.frombytes(mode, image.size, image.tobytes())


def _encode(image: Image.Image) -> CleanFile:
    """PNG for images with transparency, JPEG for the rest; no metadata is passed to either."""
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, "PNG", optimize=True)
        return CleanFile(out.getvalue(), "image/png")
    image.save(out, "JPEG", quality=80, optimize=True, progressive=True)
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
    """Render a receipt PDF's pages, one under the other, into one image to publish.

    What is published is pixels: no metadata (author, XMP), no script, no link, no attachment
    can survive, however the PDF hides them (object streams, `#61` name escapes, `/AA`
    actions), so no blocklist of PDF keywords is needed. The PDF itself goes back as
    `private_original`."""
    if not data.startswith(b"%PDF-"):
        raise ValidationError(_("This file is not a PDF."), code="not_pdf")
    pages = _render_pages(data)
    width = max(page.width for page in pages)
    height = sum(page.height for page in pages) + PDF_PAGE_GAP * (len(pages) - 1)
    sheet = Image.new("RGB", (width, height), (200, 200, 200))
    top = 0
    for page in pages:
        sheet.paste(page, ((width - page.width) // 2, top))
        top += page.height + PDF_PAGE_GAP
    clean = _encode(sheet)
    return CleanFile(clean.data, clean.content_type, private_original=data)


def _render_pages(data: bytes) -> list[Image.Image]:
    unreadable = ValidationError(
        _(
            "This PDF cannot be opened: it is damaged or protected by a password. "
            "Export the receipt again, or upload a photo of it."
        ),
        code="bad_pdf",
    )
    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            raise unreadable from None
        try:
            count = len(pdf)
            if count == 0:
                raise unreadable
            if count > MAX_PDF_PAGES:
                raise ValidationError(
                    ngettext(
                        "A receipt may have at most %(max)s page; this PDF has %(count)s.",
                        "A receipt may have at most %(max)s pages; this PDF has %(count)s.",
                        MAX_PDF_PAGES,
                    )
                    % {"max": MAX_PDF_PAGES, "count": count},
                    code="pdf_pages",
                )
            return [_render_page(pdf, number, unreadable) for number in range(count)]
        finally:
            pdf.close()


def _render_page(pdf: pdfium.PdfDocument, number: int, unreadable: ValidationError) -> Image.Image:
    try:
        page = pdf[number]
        try:
            width, height = page.get_size()
            if not (width > 0 and height > 0):
                raise unreadable
            # Each page fits in a LONGEST_SIDE square, so ten pages stay within MAX_PIXELS.
            scale = min(LONGEST_SIDE / max(width, height), MAX_PDF_SCALE)
            bitmap = page.render(scale=scale)
            try:
                return bitmap.to_pil().convert("RGB")  # a copy: the bitmap's memory is freed
            finally:
                bitmap.close()
        finally:
            page.close()
    except pdfium.PdfiumError:
        raise unreadable from None


def clean_receipt(upload: UploadedFile | bytes) -> CleanFile:
    """A receipt: a photo or a scan (rebuilt from its pixels), or a PDF (published as an image
    of its pages; the PDF comes back as `private_original`)."""
    data = _read(upload)
    if data.startswith(b"%PDF-"):
        return clean_pdf(data)
    return clean_image(data)
