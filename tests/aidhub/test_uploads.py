import io
import struct
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, PngImagePlugin

from aidhub import uploads

GPS_IFD = 0x8825


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (400, 300), (120, 160, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_IFD] = {1: "N", 2: (39.0, 50.0, 24.0), 3: "E", 4: (69.0, 31.0, 48.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the fixture really has GPS
    return data


def test_a_photo_with_gps_comes_out_without_any_exif():
    clean = uploads.clean_image(SimpleUploadedFile("p.jpg", jpeg_with_gps()))
    image = Image.open(io.BytesIO(clean.data))
    assert clean.content_type == "image/jpeg"
    assert not image.getexif()
    assert b"PhoneMaker" not in clean.data


def icc_profile_described(description: str) -> bytes:
    """An sRGB profile whose description (free text in the file) reads `description`."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    builtin = "sRGB built-in".encode("utf-16-be")
    assert len(description) == len("sRGB built-in") and srgb.count(builtin) == 1
    return srgb.replace(builtin, description.encode("utf-16-be"))


def jpeg_with_comment_and_gps() -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg_with_gps())).save(
        out, "JPEG", exif=Image.open(io.BytesIO(jpeg_with_gps())).getexif(),
        comment=b"MARKER-COM Bakyt, +996 555 010 203",
        icc_profile=icc_profile_described("MARKER-ICC-13"),
    )  # fmt: skip
    data = out.getvalue()
    assert b"\xff\xfe\x00\x24MARKER-COM" in data  # the fixture really has a COM segment
    return data


def png_with_profile_and_text(mode: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "MARKER-TEXT Aigerim")
    info.add_text("Comment", "MARKER-ZTXT Osh", zip=True)
    info.add_itxt("Description", "MARKER-ITXT Батken", lang="ru", tkey="Описание")
    out = io.BytesIO()
    Image.new(mode, (64, 48), (200, 30, 30, 255)[: len(mode)]).save(
        out, "PNG", pnginfo=info, icc_profile=icc_profile_described("MARKER-ICC-13")
    )
    data = out.getvalue()
    assert {b"tEXt", b"zTXt", b"iTXt", b"iCCP"} <= set(png_chunks(data))
    return data


def png_chunks(data: bytes) -> list[bytes]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append(data[at + 4 : at + 8])
        at += 12 + length
    return chunks


def assert_no_metadata(clean: uploads.CleanFile) -> None:
    for needle in (b"MARKER", "MARKER".encode("utf-16-be"), b"Aigerim", b"PhoneMaker"):
        assert needle not in clean.data
    image = Image.open(io.BytesIO(clean.data))
    assert not image.getexif()
    assert "icc_profile" not in image.info and "comment" not in image.info
    assert not getattr(image, "text", {})  # PNG text chunks, as Pillow reads them
    if image.format == "PNG":
        assert set(png_chunks(clean.data)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
    else:
        markers = []  # JPEG segments before the image data: only JFIF, tables and frame
        at = 2
        while clean.data[at + 1] != 0xDA:
            markers.append(clean.data[at + 1])
            at += 2 + struct.unpack(">H", clean.data[at + 2 : at + 4])[0]
        assert set(markers) <= {0xE0, 0xDB, 0xC4, 0xC0, 0xC2, 0xDD}, [hex(m) for m in markers]


def test_a_jpeg_comment_gps_and_profile_text_are_not_published():
    clean = uploads.clean_image(jpeg_with_comment_and_gps())
    assert clean.content_type == "image/jpeg"
    assert_no_metadata(clean)


@pytest.mark.parametrize(("mode", "published"), [("RGBA", "image/png"), ("RGB", "image/jpeg")])
def test_png_profile_and_text_chunks_are_not_published(mode, published):
    clean = uploads.clean_image(png_with_profile_and_text(mode))
    assert clean.content_type == published
    assert_no_metadata(clean)
    assert Image.open(io.BytesIO(clean.data)).convert("RGB").getpixel((5, 5)) == (200, 30, 30)


def test_a_multi_picture_jpeg_from_a_phone_is_accepted_as_its_first_picture():
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (64, 48), "blue")
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    clean = uploads.clean_image(SimpleUploadedFile("portrait.jpg", out.getvalue()))
    published = Image.open(io.BytesIO(clean.data))
    assert (published.format, published.size, getattr(published, "n_frames", 1)) == (
        "JPEG", (64, 48), 1)  # fmt: skip
    assert published.getpixel((32, 24))[0] > 200  # red: the first picture


def test_big_photos_are_scaled_to_1600_pixels():
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (1, 2, 3)).save(out, "PNG")
    clean = uploads.clean_image(out.getvalue())
    assert Image.open(io.BytesIO(clean.data)).size == (1600, 1200)


def test_a_decompression_bomb_is_refused_not_a_crash():
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")  # 400 megapixels, a few KB on disk
    assert len(out.getvalue()) < 200_000
    with pytest.raises(ValidationError, match="too large"):
        uploads.clean_image(out.getvalue())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
         "not a photo"),
        (b"<html><body>hi</body></html>", "not a photo"),
        (b"GIF89a" + b"\x00" * 40 + b"<script>alert(1)</script>", "not a photo"),
        (b"", "empty"),
    ],
)  # fmt: skip
def test_things_that_are_not_photos_are_refused(data, message):
    with pytest.raises(ValidationError, match=message):
        uploads.clean_image(data)


def test_a_gif_is_refused_by_its_format():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(ValidationError, match="Only JPEG, PNG and WebP"):
        uploads.clean_image(out.getvalue())


def test_a_zip_hidden_after_a_jpeg_does_not_survive():
    out = io.BytesIO()
    Image.new("RGB", (50, 50), (9, 9, 9)).save(out, "JPEG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("evil.html", "<script>alert(1)</script>")
    polyglot = out.getvalue() + archive.getvalue()
    clean = uploads.clean_image(polyglot)
    assert b"evil.html" not in clean.data
    assert b"PK\x03\x04" not in clean.data


def test_oversize_upload_is_refused_before_decoding():
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"0" * (uploads.MAX_UPLOAD_BYTES + 10))
    with pytest.raises(ValidationError, match="larger than 10 MB"):
        uploads.clean_image(big)


# Hand-made PDFs: each trick below once got a receipt past a keyword blocklist and onto the
# public ledger byte for byte. Now what is published is an image of the pages.
PAGE_TEXT = b"BT /F1 28 Tf 30 330 Td (RECEIPT 1200 KGS) Tj ET 30 200 240 60 re f"


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def page_objects(catalog: bytes = b"", page: bytes = b"", pages: int = 1) -> dict[int, bytes]:
    """Catalog 1, page tree 2, font 3, content 4, pages from 10 on."""
    kids = b" ".join(b"%d 0 R" % (10 + n) for n in range(pages))
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>",
        2: b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        4: stream(PAGE_TEXT),
    }
    for n in range(pages):
        objects[10 + n] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] /Contents 4 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> " + page + b">>"
        )
    return objects


def pdf_bytes(objects: dict[int, bytes], trailer: bytes = b"") -> bytes:
    """A PDF with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += (
            b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 00000 f \n"
        )
    out += b"trailer\n<< /Size %d /Root 1 0 R " % size + trailer + b">>\nstartxref\n%d\n" % xref
    return bytes(out) + b"%%EOF\n"


def pdf_with_compressed_objects(objects: dict[int, bytes], hidden: dict[int, bytes]) -> bytes:
    """A PDF 1.5 file whose `hidden` objects sit in a Flate-compressed object stream, so their
    keywords never appear in the file's bytes, and whose cross-reference is a stream."""
    bodies, offsets, position = b"", [], 0
    for body in hidden.values():
        offsets.append(position)
        bodies += body + b"\n"
        position += len(body) + 1
    header = b" ".join(b"%d %d" % (n, o) for n, o in zip(hidden, offsets, strict=True)) + b"\n"
    packed = zlib.compress(header + bodies)
    stream_number = max([*objects, *hidden]) + 1
    xref_number = stream_number + 1
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    where: dict[int, tuple[int, int, int]] = {}
    plain = {**objects, stream_number: stream(
        packed, b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode " % (len(hidden), len(header))
    )}  # fmt: skip
    for number in sorted(plain):
        where[number] = (1, len(out), 0)
        out += b"%d 0 obj\n" % number + plain[number] + b"\nendobj\n"
    for index, number in enumerate(hidden):
        where[number] = (2, stream_number, index)
    where[xref_number] = (1, len(out), 0)
    rows = b"".join(
        struct.pack(">BIH", *where.get(n, (0, 0, 65535 if n == 0 else 0)))
        for n in range(xref_number + 1)
    )
    out += b"%d 0 obj\n" % xref_number + stream(
        rows, b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R " % (xref_number + 1)
    ) + b"\nendobj\n"  # fmt: skip
    return bytes(out) + b"startxref\n%d\n%%%%EOF\n" % where[xref_number][1]


def pdf_with_personal_metadata() -> bytes:
    xmp = (
        b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>MARKER-XMP Aigerim S.'
        b'</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    objects = page_objects(catalog=b"/Metadata 5 0 R ")
    objects[5] = stream(xmp, b"/Type /Metadata /Subtype /XML ")
    objects[6] = b"<< /Author (MARKER-AUTHOR Aigerim Sadykova) /Creator (MARKER-CREATOR) >>"
    return pdf_bytes(objects, trailer=b"/Info 6 0 R ")


def pdf_with_script_in_an_object_stream() -> bytes:
    objects = page_objects()
    catalog = objects.pop(1).replace(b">>", b"/OpenAction 7 0 R >>")
    action = b"<< /S /JavaScript /JS (app.launchURL('https://evil.example/MARKER-OBJSTM')) >>"
    return pdf_with_compressed_objects(objects, {1: catalog, 7: action})


def pdf_with_escaped_names() -> bytes:
    # `/J#61vaScript` is `/JavaScript` and `/#4A#53` is `/JS` once a reader decodes the names.
    objects = page_objects(
        catalog=b"/Names << /J#61vaScript << /Names [(a) 7 0 R] >> >> /Op#65nAction 7 0 R "
    )
    objects[7] = b"<< /S /J#61vaScript /#4A#53 (app.alert('MARKER-ESCAPED')) >>"
    return pdf_bytes(objects)


def pdf_with_a_link_action() -> bytes:
    link = b"(https://evil.example/MARKER-URI)"
    return pdf_bytes(
        page_objects(
            page=b"/AA << /O << /S /URI /URI " + link + b" >> >> /Annots [<< /Type /Annot "
            b"/Subtype /Link /Rect [0 0 300 400] /A << /S /URI /URI " + link + b" >> >>] "
        )
    )


HOSTILE_PDFS = {
    "metadata": pdf_with_personal_metadata,
    "script in an object stream": pdf_with_script_in_an_object_stream,
    "escaped names": pdf_with_escaped_names,
    "AA and URI": pdf_with_a_link_action,
}


def assert_pixels_only(clean: uploads.CleanFile) -> Image.Image:
    """The published bytes are a plain JPEG of the rendered page, with nothing of the PDF."""
    assert clean.content_type == "image/jpeg"
    for needle in (b"MARKER", b"evil.example", b"Aigerim", b"%PDF", b"JavaScript", b"URI"):
        assert needle not in clean.data
    image = Image.open(io.BytesIO(clean.data))
    assert image.format == "JPEG"
    assert set(image.info) <= {"jfif", "jfif_version", "jfif_unit", "jfif_density",
                               "progressive", "progression"}  # fmt: skip
    return image


@pytest.mark.parametrize("make", HOSTILE_PDFS.values(), ids=HOSTILE_PDFS.keys())
def test_a_pdf_receipt_is_published_as_an_image_of_its_page(make):
    pdf = make()
    assert pdf.startswith(b"%PDF-")
    clean = uploads.clean_receipt(pdf)
    image = assert_pixels_only(clean)
    assert image.size == (900, 1200)  # the 300 x 400 pt page at MAX_PDF_SCALE
    assert image.convert("L").getextrema()[0] < 60  # the text and the box were drawn
    assert clean.private_original == pdf


def test_tricky_pdfs_were_valid_pdfs_that_pdfium_reads():
    # Guard for the fixtures: the hidden objects are really there for a PDF reader.
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf_with_personal_metadata())
    assert "MARKER-AUTHOR" in document.get_metadata_value("Author")
    for make in HOSTILE_PDFS.values():
        assert len(pdfium.PdfDocument(make())) == 1
    assert b"JavaScript" not in pdf_with_script_in_an_object_stream()


def test_every_page_of_a_receipt_is_published_one_under_the_other():
    clean = uploads.clean_receipt(pdf_bytes(page_objects(pages=3)))
    image = assert_pixels_only(clean)
    assert image.size == (900, 3 * 1200 + 2 * uploads.PDF_PAGE_GAP)


def test_a_receipt_of_too_many_pages_is_refused():
    with pytest.raises(ValidationError, match="at most 10 pages; this PDF has 11"):
        uploads.clean_receipt(pdf_bytes(page_objects(pages=11)))


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\nno objects at all\n%%EOF", b"%PDF-1.7\n" + b"\x00" * 64, b"%PDF-"],
    ids=["no objects", "noise", "header only"],
)
def test_a_pdf_pdfium_cannot_open_is_refused(data):
    with pytest.raises(ValidationError, match="cannot be opened"):
        uploads.clean_receipt(data)


def test_a_file_that_only_calls_itself_pdf_is_refused():
    with pytest.raises(ValidationError, match="not a PDF"):
        uploads.clean_pdf(b"GIF89a %PDF-1.7")


def test_receipt_photo_is_re_encoded_like_any_photo():
    clean = uploads.clean_receipt(jpeg_with_gps())
    assert clean.content_type == "image/jpeg" and b"PhoneMaker" not in clean.data
