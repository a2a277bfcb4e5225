"""Photos of a report, of the handling and of the verification: checked to be
real images of a sane size before anything is written."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from PIL import Image, UnidentifiedImageError

from wangge.cases import conf
from wangge.core.errors import InvalidInput

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
# Larger than any phone camera; beyond it a file is a decompression bomb.
MAX_PIXELS = 60_000_000


@dataclass(frozen=True)
class CheckedPhoto:
    name: str
    content: bytes
    content_type: str
    width: int
    height: int

    def as_file(self) -> ContentFile:
        return ContentFile(self.content, name=self.name)


def check_photo(upload: Any, index: int = 1) -> CheckedPhoto:
    """`upload` is an UploadedFile or anything with .read() and .name."""
    label = f"第 {index} 张照片"
    limit = int(conf.get("WANGGE_PHOTO_MAX_BYTES"))
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(label, size, limit)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large(label, len(data), limit)
    if not data:
        raise InvalidInput("photo_empty", f"{label}是空文件")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise InvalidInput("photo_too_large", f"{label}像素过多（{width}×{height}）")
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput("photo_not_image",
                           f"{label}不是可识别的图片，请上传 JPEG、PNG 或 WebP 照片") from None
    if fmt not in FORMATS:
        raise InvalidInput("photo_type", f"{label}的格式 {fmt or '未知'} 不支持，请上传 JPEG、PNG 或 WebP")
    content_type, ext = FORMATS[fmt]
    return CheckedPhoto(f"photo.{ext}", data, content_type, width, height)


def check_photos(uploads: list[Any]) -> list[CheckedPhoto]:
    most = int(conf.get("WANGGE_PHOTOS_PER_STEP"))
    if len(uploads) > most:
        raise InvalidInput("too_many_photos", f"每次最多上传 {most} 张照片")
    return [check_photo(u, i) for i, u in enumerate(uploads, start=1)]


def _too_large(label: str, size: int, limit: int) -> InvalidInput:
    return InvalidInput("photo_too_large",
                        f"{label}过大（{size / 1048576:.1f} MB），每张不超过 {limit / 1048576:.0f} MB")

