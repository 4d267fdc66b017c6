"""Receipt PDFs are rendered in a child process with time, CPU and memory limits (issue 13)."""

import io
import logging
import sys
import time
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from aidhub import uploads
from tests.aidhub.test_uploads import assert_pixels_only, page_objects, pdf_bytes, stream

TOO_COMPLEX = "too complex for us to open"


def slow_pdf(fills: int = 20_000) -> bytes:
    """One page whose content stream fills the whole page `fills` times: a 340 KB file that
    pdfium takes about half a minute to draw at 900 x 1200 pixels, with no limit of its own."""
    objects = page_objects()
    objects[4] = stream(b"0 0 300 400 re f\n" * fills)
    return pdf_bytes(objects)


def refusal(data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        uploads.clean_receipt(data)
    return caught.value


def test_a_pdf_that_takes_too_long_to_draw_is_refused_at_the_deadline(settings):
    settings.PDF_RENDER_SECONDS = 1
    settings.PDF_RENDER_CPU_SECONDS = 120  # the wall-clock deadline, not the CPU limit, ends it
    started = time.monotonic()
    error = refusal(slow_pdf())
    assert time.monotonic() - started < 1 + 5  # generous: two shared cores
    assert error.code == "pdf_too_complex" and TOO_COMPLEX in error.messages[0]


def test_a_pdf_past_the_cpu_limit_is_refused(settings, caplog):
    settings.PDF_RENDER_SECONDS = 120
    settings.PDF_RENDER_CPU_SECONDS = 1
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="aidhub.uploads"):
        error = refusal(slow_pdf())
    assert time.monotonic() - started < 30  # the page alone takes about 30 s of CPU
    assert error.code == "pdf_too_complex"
    assert "SIGXCPU" in caplog.text or "SIGKILL" in caplog.text


def test_a_renderer_out_of_memory_is_refused_cleanly(settings, caplog):
    settings.PDF_RENDER_MEMORY_MB = 16  # not even enough to start Python and import pdfium
    with caplog.at_level(logging.WARNING, logger="aidhub.uploads"):
        error = refusal(pdf_bytes(page_objects()))
    assert error.code == "pdf_too_complex"
    assert "The PDF renderer ended with" in caplog.text


@pytest.mark.parametrize(
    ("script", "logged"),
    [
        ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "signal SIGSEGV"),
        ("import sys; sys.stdin.buffer.read(); sys.exit(3)", "exit status 3"),
        ("print('not our protocol')", "not one"),
        ("print('{\"page\": [900, 1200]}')", "not one"),  # pixels missing
        ("import sys; sys.stdin.buffer.read()", "incomplete"),  # said nothing
    ],
    ids=["segfault", "exit status", "garbage", "short page", "silence"],
)
def test_a_renderer_that_crashes_or_answers_wrongly_gives_the_same_refusal(
    monkeypatch, caplog, script, logged
):
    monkeypatch.setattr(uploads, "PDF_RENDERER", [sys.executable, "-I", "-c", script])
    with caplog.at_level(logging.WARNING, logger="aidhub.uploads"):
        error = refusal(pdf_bytes(page_objects()))
    assert error.code == "pdf_too_complex" and TOO_COMPLEX in error.messages[0]
    assert logged in caplog.text


def render_in_process(data: bytes) -> bytes:
    """What clean_pdf published before the renderer moved to a child process."""
    pdf = pdfium.PdfDocument(data)
    pages = []
    for number in range(len(pdf)):
        page = pdf[number]
        width, height = page.get_size()
        scale = min(uploads.LONGEST_SIDE / max(width, height), uploads.MAX_PDF_SCALE)
        bitmap = page.render(scale=scale)
        pages.append(bitmap.to_pil().convert("RGB"))
        bitmap.close()
        page.close()
    pdf.close()
    width = max(page.width for page in pages)
    gaps = uploads.PDF_PAGE_GAP * (len(pages) - 1)
    sheet = Image.new("RGB", (width, sum(page.height for page in pages) + gaps), (200,) * 3)
    top = 0
    for page in pages:
        sheet.paste(page, ((width - page.width) // 2, top))
        top += page.height + uploads.PDF_PAGE_GAP
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=80, optimize=True, progressive=True)
    return out.getvalue()


@pytest.mark.parametrize("pages", [1, 3])
def test_a_normal_pdf_is_published_byte_for_byte_as_when_rendered_in_process(pages):
    pdf = pdf_bytes(page_objects(pages=pages))
    clean = uploads.clean_receipt(pdf)
    assert_pixels_only(clean)
    assert clean.data == render_in_process(pdf)
    assert clean.private_original == pdf


def test_the_renderer_gets_no_secrets_from_the_environment(monkeypatch, caplog):
    monkeypatch.setenv("SECRET_KEY", "MARKER-SECRET")
    script = (
        "import os, sys; sys.stdin.buffer.read(); "
        "sys.exit(7 if 'MARKER-SECRET' in str(os.environ) else 0)"
    )
    monkeypatch.setattr(uploads, "PDF_RENDERER", [sys.executable, "-I", "-c", script])
    with caplog.at_level(logging.WARNING, logger="aidhub.uploads"):
        refusal(pdf_bytes(page_objects()))
    assert "incomplete" in caplog.text and "exit status 7" not in caplog.text


def _gone(pid: int) -> bool:
    """The process no longer runs (gone, or a zombie nobody reaped: killed either way)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_a_grandchild_holding_the_pipes_is_killed_at_the_deadline(
    monkeypatch, settings, tmp_path, caplog
):
    settings.PDF_RENDER_SECONDS = 1
    pid_file = tmp_path / "grandchild"
    script = (
        "import os, sys, time; sys.stdin.buffer.read()\n"
        "if os.fork() == 0:\n"
        f"    open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)\n"
        "os._exit(0)\n"
    )
    monkeypatch.setattr(uploads, "PDF_RENDERER", [sys.executable, "-I", "-c", script])
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="aidhub.uploads"):
        error = refusal(pdf_bytes(page_objects()))
    assert time.monotonic() - started < 1 + 5
    assert error.code == "pdf_too_complex" and "took more than 1 s" in caplog.text
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while not _gone(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(grandchild)


@pytest.mark.parametrize("stream_name", ["stdout", "stderr"])
def test_a_renderer_flooding_its_output_does_not_fill_the_workers_memory(
    monkeypatch, settings, caplog, stream_name
):
    import tracemalloc

    settings.PDF_RENDER_SECONDS = 5
    monkeypatch.setattr(uploads, "MAX_RENDER_OUTPUT", 4 * 2**20, raising=False)
    script = (
        "import sys, time; sys.stdin.buffer.read(); chunk = b'x' * 2**20\n"
        f"for _ in range(40): sys.{stream_name}.buffer.write(chunk); sys.{stream_name}.flush()\n"
        "sys.exit(3)\n"
    )
    monkeypatch.setattr(uploads, "PDF_RENDERER", [sys.executable, "-I", "-c", script])
    tracemalloc.start()
    try:
        with caplog.at_level(logging.WARNING, logger="aidhub.uploads"):
            error = refusal(pdf_bytes(page_objects()))
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.code == "pdf_too_complex"
    assert peak < 12 * 2**20  # 40 MiB were written
    expected = "wrote more than" if stream_name == "stdout" else "exit status 3"
    assert expected in caplog.text


def test_the_renderer_may_start_no_process():
    import resource
    import subprocess

    folder = str(Path(uploads.PDF_RENDERER[-1]).parent)
    probe = (
        f"import resource, sys; sys.path.insert(0, {folder!r}); import pdfrender\n"
        "pdfrender._limit(10, 512 * 2**20); print(resource.getrlimit(resource.RLIMIT_NPROC))"
    )
    result = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, check=True)
    assert result.stdout.strip() == b"(0, 0)"
    assert resource.getrlimit(resource.RLIMIT_NPROC) != (0, 0)  # only the child's
