"""A real small file system that can be filled up, mounted by the test, so that writes fail with the
kernel's own ENOSPC: a tmpfs (`mount -t tmpfs -o size=…`), where a new folder or an empty file still
fits once the data blocks are gone, or an ext4 image on a loop device, where a new folder needs a block
too. Needs root, like the loop-device tests. Only what the test mounted is ever unmounted."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

CHUNK = 64 * 1024


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


class SmallDisk:
    def __init__(self, mount_point: Path, fs: str = "tmpfs", size_kib: int = 512) -> None:
        self.path = mount_point
        self.filler = mount_point / "filler"
        mount_point.mkdir(parents=True, exist_ok=True)
        if fs == "tmpfs":
            run("mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "vigie-small-disk", str(mount_point))
        else:
            image = mount_point.with_name(mount_point.name + ".img")
            with image.open("wb") as handle:
                handle.truncate(size_kib * 1024)
            run("mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", str(image))  # no blocks held back
            run("mount", "-o", "loop", str(image), str(mount_point))
            os.chmod(mount_point, 0o700)

    def fill(self) -> None:
        """Write into one file until the kernel says ENOSPC: not one block is left."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * CHUNK)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
        try:  # the last partial chunk, block by block
            while True:
                os.write(fd, b"\0" * 1024)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
        finally:
            os.close(fd)
        assert os.statvfs(self.path).f_bavail == 0

    def free(self) -> None:
        self.filler.unlink()

    def remove(self) -> None:
        run("umount", str(self.path))  # the loop device goes with it (mount -o loop set autoclear)
