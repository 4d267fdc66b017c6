"""Render a receipt PDF's pages in a process of its own: `python -I pdfrender.py ARGS < pdf`.

pdfium has no time bound (a one-page PDF of a few thousand page-sized fills takes minutes), no
memory bound we can set from Python, is not thread-safe, and a malformed PDF may crash it. So
`aidhub.uploads` runs this file as a child process with CPU-time, address-space and file-size
limits it sets on itself before it reads a byte of the PDF (and may start no process), and
kills its whole process group at a wall-clock deadline or once it writes more than an answer
can be. The child imports nothing of AidHub or Django and gets an empty environment, so a
renderer that a hostile PDF took over holds no secrets.

Arguments: CPU_SECONDS MEMORY_BYTES MAX_PAGES LONGEST_SIDE MAX_SCALE. Output on stdout is JSON
lines: `{"page": [width, height]}` followed by width * height * 3 bytes of RGB pixels, one
such record per page, then `{"done": true}`; or a single `{"error": "unreadable"}` or
`{"error": "pages", "count": N}`. Any other exit (a signal, a traceback) is a failure.
"""

import json
import resource
import sys


def _limit(cpu_seconds: int, memory_bytes: int) -> None:
    # SIGXCPU (which ends the process) at the soft CPU limit, SIGKILL a second later.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # writes no file
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # and leaves no core dump when it crashes
    # Starts no process (for an account other than root, which the limit does not bind).
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def _write(out, record: dict, pixels: bytes = b"") -> None:
    out.write(json.dumps(record).encode() + b"\n" + pixels)


def render(data: bytes, out, *, max_pages: int, longest_side: int, max_scale: float) -> None:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return _write(out, {"error": "unreadable"})
    try:
        count = len(pdf)
        if count == 0:
            return _write(out, {"error": "unreadable"})
        if count > max_pages:
            return _write(out, {"error": "pages", "count": count})
        pages = []
        for number in range(count):
            try:
                page = _render_page(pdf, number, longest_side=longest_side, max_scale=max_scale)
            except pdfium.PdfiumError:
                page = None
            if page is None:
                return _write(out, {"error": "unreadable"})
            pages.append(page)
        # Written only once every page rendered, so a half-written answer is never used.
        for size, pixels in pages:
            _write(out, {"page": size}, pixels)
        _write(out, {"done": True})
    finally:
        pdf.close()


def _render_page(pdf, number: int, *, longest_side: int, max_scale: float):
    page = pdf[number]
    try:
        width, height = page.get_size()
        if not (width > 0 and height > 0):
            return None
        # Each page fits in a longest_side square, so ten pages stay within MAX_PIXELS.
        scale = min(longest_side / max(width, height), max_scale)
        bitmap = page.render(scale=scale)
        try:
            image = bitmap.to_pil().convert("RGB")  # a copy: the bitmap's memory is freed
        finally:
            bitmap.close()
        return list(image.size), image.tobytes()
    finally:
        page.close()


def main(argv: list[str]) -> None:
    cpu_seconds, memory_bytes, max_pages, longest_side = (int(arg) for arg in argv[:4])
    _limit(cpu_seconds, memory_bytes)
    data = sys.stdin.buffer.read()
    render(
        data,
        sys.stdout.buffer,
        max_pages=max_pages,
        longest_side=longest_side,
        max_scale=float(argv[4]),
    )
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
