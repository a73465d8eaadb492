"""The files of one product, in a folder, a zip archive or a single file, checked for safety."""

from __future__ import annotations

import zipfile
from pathlib import Path

from terrapole.errors import InvalidProduct

LFS_MAGIC = b"version https://git-lfs.github.com/spec"
MAX_UNZIPPED = 20 * 1024**3  # a Sentinel-2 L2A product is < 2 GiB; 20 GiB is not a product
MAX_RATIO = 100  # GeoTIFF bands compress < 10x; 100x is an archive built to explode


class Source:
    """Relative file names of a product and how GDAL and Python open each one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.is_zip = path.is_file() and zipfile.is_zipfile(path)
        if self.is_zip:
            self.names = self._zip_names(path)
        elif path.is_dir():
            self.names = sorted(
                p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()
            )
        elif path.is_file():
            self.names = [path.name]
        else:
            raise InvalidProduct(str(path), "does not exist")

    @staticmethod
    def _zip_names(path: Path) -> list[str]:
        try:
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise InvalidProduct(str(path), f"unreadable zip archive ({exc})") from exc
        total = sum(i.file_size for i in infos)
        packed = max(1, sum(i.compress_size for i in infos))
        if total > MAX_UNZIPPED or (total > 64 * 1024**2 and total / packed > MAX_RATIO):
            raise InvalidProduct(
                str(path),
                f"archive expands to {total / 1024**2:.0f} MiB from {packed / 1024**2:.1f} MiB "
                "(a zip bomb, not a product)",
            )
        for info in infos:
            if info.filename.startswith("/") or ".." in Path(info.filename).parts:
                raise InvalidProduct(str(path), f"archive member {info.filename!r} escapes it")
        return sorted(i.filename for i in infos if not i.is_dir())

    def gdal_path(self, name: str) -> str:
        """What rasterio opens for member ``name``."""
        if self.is_zip:
            return f"/vsizip/{self.path}/{name}"
        if self.path.is_file():
            return str(self.path)
        return str(self.path / name)

    def head(self, name: str, size: int = 64) -> bytes:
        """The first ``size`` bytes of member ``name``."""
        if self.is_zip:
            with zipfile.ZipFile(self.path) as archive, archive.open(name) as handle:
                return handle.read(size)
        target = self.path if self.path.is_file() else self.path / name
        with target.open("rb") as handle:
            return handle.read(size)

    def read_bytes(self, name: str) -> bytes:
        """The whole member ``name`` (metadata files only)."""
        if self.is_zip:
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(name)
        target = self.path if self.path.is_file() else self.path / name
        return target.read_bytes()

    def check_not_lfs_pointer(self, name: str) -> None:
        """Refuse a Git LFS pointer file standing where pixels should be."""
        if self.head(name, len(LFS_MAGIC)) == LFS_MAGIC:
            raise InvalidProduct(
                f"{self.path.name}/{name}" if not self.path.is_file() else str(self.path),
                "is a Git LFS pointer, not the data (run `git lfs pull`)",
            )
