"""Uploads that are safe to publish: checked by content, never by name.

Images (JPEG, PNG, WebP) are decoded by Pillow within a pixel bound and a new image is built
from the decoded pixels alone, so no EXIF (GPS), XMP, JPEG comment, PNG text chunk, ICC profile
or bytes hidden after the image (polyglots) can follow them out. Receipts may also be PDF: the
PDF is never published (its metadata names people, and its scripts and links are not ours to
vet); its pages are rendered to one image by pdfium and that image is published. The published
bytes are what is stored as evidence and hashed into the ledger. Everything else is refused
with a message a person can act on.

pdfium runs in a child process (`aidhub/pdfrender.py`) with CPU-time and memory limits and a
wall-clock deadline, so a PDF that is slow to draw, too big for memory or crashes pdfium is
refused with a message, not a stuck worker or a server error.
"""

import contextlib
import io
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
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
# Isolated mode (-I): no PYTHON* variables, no user site, not even the script's folder on the
# path, so the child imports pypdfium2 and Pillow from this interpreter's packages and nothing
# of AidHub's.
PDF_RENDERER = [sys.executable, "-I", str(Path(__file__).with_name("pdfrender.py"))]

logger = logging.getLogger(__name__)


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
    output = _run_renderer(data)
    records = []
    position = 0
    try:
        while position < len(output):
            end = output.index(b"\n", position)
            record = json.loads(output[position:end])
            if not isinstance(record, dict):
                raise ValueError(record)
            records.append(record)
            position = end + 1
            if "count" in record:
                record["count"] = int(record["count"])
            if "page" in record:
                width, height = (int(side) for side in record["page"])
                if not (width > 0 and height > 0 and width * height <= MAX_PIXELS):
                    raise ValueError(record)
                pixels = memoryview(output)[position : position + width * height * 3]
                if len(pixels) < width * height * 3:
                    raise ValueError("short page")
                record["image"] = Image.frombytes("RGB", (width, height), pixels)
                position += len(pixels)
    except (ValueError, TypeError, KeyError):
        logger.warning("The PDF renderer gave an answer that is not one", exc_info=True)
        raise _too_complex() from None
    error = records[0].get("error") if records else None
    if error == "unreadable":
        raise unreadable
    if error == "pages":
        count = records[0]["count"]
        raise ValidationError(
            ngettext(
                "A receipt may have at most %(max)s page; this PDF has %(count)s.",
                "A receipt may have at most %(max)s pages; this PDF has %(count)s.",
                MAX_PDF_PAGES,
            )
            % {"max": MAX_PDF_PAGES, "count": count},
            code="pdf_pages",
        )
    pages = [record["image"] for record in records if "image" in record]
    if not pages or records[-1] != {"done": True} or len(records) != len(pages) + 1:
        logger.warning("The PDF renderer gave an incomplete answer: %r", records[-1:])
        raise _too_complex()
    return pages


# The most a correct answer can be: every page at its largest, in RGB, and the JSON lines. A
# renderer writing more is refused at once instead of filling the worker's memory.
MAX_RENDER_OUTPUT = MAX_PDF_PAGES * LONGEST_SIDE**2 * 3 + 4096
MAX_RENDER_ERRORS = 64 * 1024  # of stderr, the end is kept for the log
_CHUNK = 64 * 1024


class _RendererOverran(Exception):
    """The renderer passed its deadline or wrote more than an answer can be."""


def _run_renderer(data: bytes) -> bytes:
    """The child's stdout, once it exited cleanly within the limits; else the refusal.

    The child leads a process group of its own, and whatever happens the whole group is
    killed before the child is reaped: a grandchild it forked (it may not: RLIMIT_NPROC) and
    left holding the pipes is gone too, and nothing waits past the deadline."""
    deadline = time.monotonic() + settings.PDF_RENDER_SECONDS
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and script; no shell)
        [
            *PDF_RENDERER,
            str(settings.PDF_RENDER_CPU_SECONDS),
            str(settings.PDF_RENDER_MEMORY_MB * 1024 * 1024),
            str(MAX_PDF_PAGES),
            str(LONGEST_SIDE),
            str(MAX_PDF_SCALE),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={},  # a renderer a PDF took over finds no secrets in its environment
        close_fds=True,
        start_new_session=True,
    )
    try:
        try:
            output, errors = _exchange(process, data, deadline)
            if not _exited_by(process.pid, deadline):
                raise _RendererOverran(f"took more than {settings.PDF_RENDER_SECONDS} s")
        except _RendererOverran as exc:
            logger.warning("The PDF renderer %s; refused", exc)
            raise _too_complex() from None
    finally:
        # The child is not reaped yet, so its group id cannot have been given to anyone else.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        for pipe in (process.stdin, process.stdout, process.stderr):
            with contextlib.suppress(OSError):
                pipe.close()
        process.wait(timeout=5)  # it is dead or a zombie: this only reaps it
    if process.returncode != 0:
        code = process.returncode
        reason = f"exit status {code}"
        if code < 0:
            with contextlib.suppress(ValueError):
                reason = f"signal {signal.Signals(-code).name}"
        logger.warning(
            "The PDF renderer ended with %s; refused: %s",
            reason,
            bytes(errors[-2000:]).decode(errors="replace"),
        )
        raise _too_complex()
    return bytes(output)


def _exchange(
    process: subprocess.Popen, data: bytes, deadline: float
) -> tuple[bytearray, bytearray]:
    """Write `data` to the child and read its stdout and stderr until both close, within the
    deadline and MAX_RENDER_OUTPUT (stderr keeps only its last MAX_RENDER_ERRORS bytes)."""
    output, errors = bytearray(), bytearray()
    pending = memoryview(data)
    with selectors.DefaultSelector() as selector:
        if pending:
            os.set_blocking(process.stdin.fileno(), False)
            selector.register(process.stdin, selectors.EVENT_WRITE)
        else:
            process.stdin.close()
        selector.register(process.stdout, selectors.EVENT_READ)
        selector.register(process.stderr, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _RendererOverran(f"took more than {settings.PDF_RENDER_SECONDS} s")
            for key, _events in selector.select(remaining):
                pipe = key.fileobj
                if pipe is process.stdin:
                    try:
                        pending = pending[os.write(key.fd, pending[:_CHUNK]) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        pending = pending[:0]  # it stopped reading: its answer tells why
                    if not pending:
                        selector.unregister(pipe)
                        pipe.close()
                    continue
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(pipe)
                    continue
                if pipe is process.stdout:
                    output += chunk
                    if len(output) > MAX_RENDER_OUTPUT:
                        raise _RendererOverran(f"wrote more than {MAX_RENDER_OUTPUT} bytes")
                else:
                    errors += chunk
                    del errors[:-MAX_RENDER_ERRORS]
    return output, errors


def _exited_by(pid: int, deadline: float) -> bool:
    """Whether the child exited before the deadline; it is left unreaped (WNOWAIT)."""
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


def _too_complex() -> ValidationError:
    # Slow to draw, too much memory, or it crashed the renderer: to the organiser, the same.
    return ValidationError(
        _(
            "This PDF is too complex for us to open. "
            "Upload a photo or a scan of the receipt instead."
        ),
        code="pdf_too_complex",
    )


def clean_receipt(upload: UploadedFile | bytes) -> CleanFile:
    """A receipt: a photo or a scan (rebuilt from its pixels), or a PDF (published as an image
    of its pages; the PDF comes back as `private_original`)."""
    data = _read(upload)
    if data.startswith(b"%PDF-"):
        return clean_pdf(data)
    return clean_image(data)
