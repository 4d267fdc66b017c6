import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

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


def test_a_plain_pdf_receipt_is_kept():
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert uploads.clean_receipt(pdf) == uploads.CleanFile(pdf, "application/pdf")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4\n/OpenAction << /JS (app.alert(1)) >>\n%%EOF", "scripts or attachments"),
        (b"%PDF-1.4\nno end marker", "damaged"),
    ],
)
def test_pdfs_with_scripts_or_broken_ones_are_refused(data, message):
    with pytest.raises(ValidationError, match=message):
        uploads.clean_receipt(data)


def test_receipt_photo_is_re_encoded_like_any_photo():
    clean = uploads.clean_receipt(jpeg_with_gps())
    assert clean.content_type == "image/jpeg" and b"PhoneMaker" not in clean.data
