"""Recent files in the user's folders that look like ransomware's work: encrypted files renamed with
a known or unusual extension, and ransom notes. Names and modification times only: no file is ever
opened. The walk is bounded (entries, depth, seconds) and never follows links.
"""

from __future__ import annotations

import logging
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

DAYS = 7
MAX_ENTRIES = 50_000
MAX_SECONDS = 10.0
MAX_DEPTH = 12
MAX_LISTED = 500  # suspicious files written out; the total is still counted
MANY_SHARED = 10  # an unusual extension on this many recent files is what encryption looks like
NOTE_FOLDERS = 3  # a plain README.txt is suspicious only when it appears in this many folders at once

RANSOM_EXTENSIONS = frozenset({
    "locked", "encrypted", "crypt", "crypted", "crypto", "cryptolocker", "crypz", "cryp1", "encr", "encrypt",
    "lck", "locky", "zepto", "odin", "thor", "aesir", "osiris", "cerber", "cerber2", "cerber3",
    "wncry", "wnry", "wcry", "wncryt", "ryk", "ryuk", "conti", "lockbit", "phobos", "eking", "eight", "dharma",
    "wallet", "arena", "combo", "makop", "djvu", "basta", "akira", "royal", "rhysida", "medusa", "hive",
    "babyk", "babuk", "clop", "cl0p", "avos", "avos2", "avoslocker", "blackbyte", "nefilim", "nephilim",
    "thanos", "mallox", "kraken", "globe", "vvv", "ccc", "zzz", "aaa", "micro", "ecc", "ezz", "exx", "xtbl",
    "ttt", "r5a", "hermes", "gandcrab", "krab", "sage", "spora", "jaff", "btcware", "darkness", "pay2key",
})
USUAL_EXTENSIONS = frozenset({
    # documents and office files
    "doc", "docx", "docm", "dot", "dotx", "odt", "ott", "rtf", "txt", "md", "pdf", "xps", "oxps", "epub",
    "xls", "xlsx", "xlsm", "xlt", "xltx", "ods", "csv", "tsv", "ppt", "pptx", "pptm", "odp", "odg", "pub",
    "one", "vsd", "vsdx", "accdb", "mdb", "pages", "numbers", "key",
    # images, sound and video
    "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "heic", "heif", "webp", "svg", "ico", "raw", "dng",
    "cr2", "nef", "psd", "mp3", "wav", "m4a", "aac", "ogg", "opus", "flac", "wma", "mp4", "m4v", "mov", "avi",
    "mkv", "wmv", "webm", "3gp",
    # health: imaging, lab results, signed documents
    "dcm", "dicom", "hpr", "hprim", "p7s", "p7m", "sig", "xml", "hl7",
    # mail, calendars, contacts, web
    "eml", "msg", "pst", "ost", "mbox", "ics", "vcf", "html", "htm", "mht", "url", "webloc", "lnk", "desktop",
    # archives, installers, disk images
    "zip", "7z", "rar", "gz", "tgz", "bz2", "xz", "zst", "tar", "cab", "iso", "img", "dmg", "pkg", "exe",
    "msi", "msix", "deb", "rpm", "appimage", "apk", "jar",
    # data and settings
    "json", "yaml", "yml", "ini", "cfg", "conf", "log", "dat", "db", "sqlite", "sqlite3", "bak", "tmp",
    "part", "crdownload", "torrent", "ttf", "otf", "woff", "woff2", "css", "js", "py", "sh", "bat", "ps1",
    "kdbx", "ovpn", "pem", "crt", "cer", "p12", "pfx", "gpg", "asc",
})
NOTE_EXTENSIONS = frozenset({"txt", "html", "htm", "hta", "rtf", "url"})
# Matched on the name without its extension, lower case, accents removed, separators as "_" (see
# _note_stem): « LISEZ-MOI_RANÇON.txt » is read as lisez_moi_rancon.
_NOTE_WORDS = re.compile(
    r"decrypt|ransom|unlock_?(your_?|my_?|all_?)?files|(recover|restore|return)_?(your_?|my_?|all_?)?(files|data)"
    r"|how_?to_?(back|recover|restore|decrypt|unlock|get)|(your|my|all)_?files|files_?(are_?)?encrypted"
    r"|encrypted_?files|read_?me_?(now|first|for|to|!)|!+_?read"
    # French: the ransom itself (not « rançongiciel », the word for ransomware, found in guides), undoing
    # the encryption, getting « vos fichiers » back, and a « lisez-moi » that insists
    r"|rancon(?!_?gicie)|dechiffr|(fichiers|donnees|documents)_?(sont_?|ont_?ete_?)?(chiffre|crypte|encrypte|bloque)"
    r"|(recuperer|restaurer|retrouver|debloquer|deverrouiller)_?(vos|tous_?vos|tous_?les)_?(fichiers|donnees|documents)"
    r"|comment_?(recuperer|restaurer|retrouver|debloquer|deverrouiller|dechiffrer|decrypter)"
    r"|(vos|tous_?vos)_?(fichiers|donnees)|lisez_?moi_?(maintenant|d_?abord|immediatement|urgent|vite|svp|!)"
    r"|!+_?lisez"
)
_SEPARATORS = re.compile(r"[\s\-.,+'’]+")
# A plain « README.txt » or « Lisez-moi.txt » comes with many programs: suspicious only in NOTE_FOLDERS
# folders at once (see classify); decorated (« _readme.txt », « !!!LISEZ-MOI!!!.txt ») it is a note.
_PLAIN_README = frozenset({"readme", "lisezmoi", "lismoi"})
_DECORATION = "_!@#~"


@dataclass(frozen=True)
class SuspiciousFile:
    path: str
    modified: datetime
    reason: str  # ransom_extension, unusual_extension, ransom_note


@dataclass(frozen=True)
class ScanResult:
    files: tuple[SuspiciousFile, ...]
    total: int
    visited: int
    complete: bool  # False when a cap (entries, seconds) stopped the walk
    roots: tuple[str, ...]
    days: int = DAYS


@dataclass(frozen=True)
class _Recent:
    path: str
    folder: str
    name: str
    modified: float


def user_folders() -> list[Path]:
    """Where a practice keeps its files; the rest of the home folder comes last."""
    getters = (platformdirs.user_desktop_path, platformdirs.user_documents_path, platformdirs.user_downloads_path,
               platformdirs.user_pictures_path, platformdirs.user_videos_path, platformdirs.user_music_path)
    found = []
    for getter in getters:
        try:
            found.append(getter())
        except Exception as exc:  # platformdirs may fail on an odd Windows profile
            log.warning("scan: a user folder is unknown: %s", exc)
    return [*found, Path.home()]


def extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem.strip(".") else ""


def _note_stem(name: str, ext: str) -> str:
    """« Comment-RÉCUPÉRER vos fichiers » -> comment_recuperer_vos_fichiers: case, accents and separators
    do not matter to the patterns."""
    stem = unicodedata.normalize("NFKD", name[: -len(ext) - 1].lower())
    stem = "".join(char for char in stem if not unicodedata.combining(char))
    return _SEPARATORS.sub("_", stem)


def plain_readme(name: str) -> bool:
    """« README.txt », « Read-Me.html », « Lisez-moi.txt »: what a program's own read-me is called."""
    ext = extension(name)
    return ext in ("txt", "html", "htm") and _note_stem(name, ext).replace("_", "") in _PLAIN_README


def note_like(name: str) -> bool:
    """Named like a ransom note (README_FOR_DECRYPT.txt, HOW_TO_RECOVER.html, _readme.txt, info.hta,
    LISEZ-MOI_RANÇON.txt, Comment récupérer vos fichiers.html)."""
    ext = extension(name)
    if ext not in NOTE_EXTENSIONS:
        return False
    if ext == "hta":
        return True  # an HTML application has nothing to do in a user's folder
    stem = _note_stem(name, ext)
    core = stem.strip(_DECORATION)
    return bool(_NOTE_WORDS.search(stem)) or (core != stem and core.replace("_", "") in _PLAIN_README)


def _walk(roots: Sequence[Path], since: float, deadline: float, clock: Callable[[], float],
          max_entries: int) -> tuple[list[_Recent], int, bool]:
    recent: list[_Recent] = []
    seen_dirs: set[tuple[int, int]] = set()
    visited = 0
    stack = [(root, 0) for root in reversed(roots)]
    while stack:
        folder, depth = stack.pop()
        try:
            info = folder.stat()
        except OSError:
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            continue  # Documents is also inside the home folder
        seen_dirs.add(key)
        try:
            with os.scandir(folder) as entries:
                items = list(entries)
        except OSError:
            continue
        subfolders = []
        for entry in items:
            visited += 1
            if visited > max_entries or clock() > deadline:
                return recent, visited, False
            if entry.name.startswith("."):
                continue  # settings and caches, not the practice's documents
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth < MAX_DEPTH:
                        subfolders.append((Path(entry.path), depth + 1))
                elif entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    if stat.st_mtime >= since:  # encrypting rewrites the file: its modification time moves
                        recent.append(_Recent(entry.path, str(folder), entry.name, stat.st_mtime))
            except OSError:
                continue
        stack.extend(reversed(subfolders))
    return recent, visited, True


def classify(recent: Sequence[_Recent]) -> list[tuple[_Recent, str]]:
    counts = Counter(extension(item.name) for item in recent)
    plain_readme_folders = {item.folder for item in recent if plain_readme(item.name)}
    found = []
    for item in recent:
        ext = extension(item.name)
        if note_like(item.name) or (plain_readme(item.name) and len(plain_readme_folders) >= NOTE_FOLDERS):
            found.append((item, "ransom_note"))
        elif ext in RANSOM_EXTENSIONS:
            found.append((item, "ransom_extension"))
        elif ext and ext not in USUAL_EXTENSIONS and counts[ext] >= MANY_SHARED:
            found.append((item, "unusual_extension"))
    return found


def scan_recent_files(roots: Sequence[Path], now: datetime, days: int = DAYS, max_entries: int = MAX_ENTRIES,
                      max_seconds: float = MAX_SECONDS, clock: Callable[[], float] = time.monotonic) -> ScanResult:
    since = (now - timedelta(days=days)).timestamp()
    existing = [root for root in roots if root.is_dir()]
    recent, visited, complete = _walk(existing, since, clock() + max_seconds, clock, max_entries)
    found = classify(recent)
    found.sort(key=lambda pair: (pair[1] != "ransom_note", -pair[0].modified))  # the notes first, then newest
    files = tuple(SuspiciousFile(item.path, datetime.fromtimestamp(item.modified, now.tzinfo), reason)
                  for item, reason in found[:MAX_LISTED])
    log.info("scan: %d entries seen, %d recent, %d suspicious, complete=%s", visited, len(recent), len(found), complete)
    return ScanResult(files, len(found), visited, complete, tuple(str(root) for root in existing), days)
