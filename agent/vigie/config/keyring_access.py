"""Every call to the OS keyring goes through here, each one bounded by a timeout.

A keyring can be missing, locked, or hang for ever (a Secret Service that never answers, a
prompt nobody sees). After the first failure of that kind no further call is made in this
process: Vigie carries on with defaults rather than stacking up stuck threads.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from vigie import APP_NAME
from vigie.bounded import CallTimeout, bounded_call
from vigie.errors import VigieError
from vigie.model import T

if TYPE_CHECKING:
    import keyring.backend

# keyring is imported only when a call is made: off Windows the always-on agent reads its settings
# through a child process (`vigie config export`) and never loads it, nor the crypto libraries under it.

log = logging.getLogger(__name__)
R = TypeVar("R")
DEFAULT_TIMEOUT = 5.0


KEYRING_PROBLEMS = {
    "no_keyring": T("No system keyring is available."),
    "keyring_locked": T("The system keyring is locked."),
    "keyring_timeout": T("The system keyring does not answer."),
    "keyring_error": T("The system keyring returned an error."),
    "unsafe_keyring": T("The only keyring available stores secrets unencrypted; Vigie will not use it."),
}


class KeyringUnavailable(VigieError):
    """The keyring cannot be used; `code` says why (no_keyring, keyring_locked, ...)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(KEYRING_PROBLEMS.get(code, KEYRING_PROBLEMS["keyring_error"]), f"{code}: {detail}")
        self.code = code


def _timeout_from_env() -> float:
    try:
        return float(os.environ.get("VIGIE_KEYRING_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


# The OS's own keyring, named rather than discovered: discovery imports every installed backend
# (libsecret pulls in GObject), and a third-party plaintext backend could win it.
NATIVE_BACKENDS = {
    "linux": "keyring.backends.SecretService.Keyring",
    "windows": "keyring.backends.Windows.WinVaultKeyring",
    "macos": "keyring.backends.macOS.Keyring",
}


def _select_backend() -> keyring.backend.KeyringBackend:
    import keyring

    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return keyring.get_keyring()  # an administrator's explicit choice (still vetted below)
    from vigie.platform import platform_name

    module_name, _, class_name = NATIVE_BACKENDS[platform_name()].rpartition(".")
    try:
        backend_class = getattr(importlib.import_module(module_name), class_name)
        backend_class.priority  # noqa: B018 - raises when the backend cannot work here, with the reason
    except Exception as exc:
        raise KeyringUnavailable("no_keyring", f"{module_name}: {exc}") from exc
    return backend_class()


class KeyringAccess:
    def __init__(self, service: str = APP_NAME, timeout: float | None = None) -> None:
        self.service = service
        self.timeout = timeout if timeout is not None else _timeout_from_env()
        self._backend: keyring.backend.KeyringBackend | None = None
        self._broken: KeyringUnavailable | None = None

    def get(self, name: str) -> str | None:
        """The entry's text; bytes that are not UTF-8 come back as surrogate escapes, for the caller to
        refuse (and quarantine) that entry alone: one bad value is not a keyring failure."""

        def read(kr: keyring.backend.KeyringBackend) -> str | None:
            try:
                return kr.get_password(self.service, name)
            except UnicodeDecodeError as exc:
                log.warning("keyring entry %s is not UTF-8 text: %s", name, exc)
                return bytes(exc.object).decode("utf-8", "surrogateescape")

        return self._call(read)

    def set(self, name: str, value: str) -> None:
        self._call(lambda kr: kr.set_password(self.service, name, value))

    def delete(self, name: str) -> None:
        import keyring.errors

        def delete(kr: keyring.backend.KeyringBackend) -> None:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):  # nothing stored: already default
                kr.delete_password(self.service, name)

        self._call(delete)

    def backend_name(self) -> str:
        backend = self._ensure_backend()
        return f"{type(backend).__module__}.{type(backend).__name__}"

    def _call(self, operation: Callable[[keyring.backend.KeyringBackend], R]) -> R:
        backend = self._ensure_backend()
        return self._bounded(lambda: operation(backend))

    def _ensure_backend(self) -> keyring.backend.KeyringBackend:
        if self._broken:
            raise self._broken
        if self._backend is None:
            backend = self._bounded(_select_backend)
            self._backend = self._refuse_unsafe(backend)
        return self._backend

    def _refuse_unsafe(self, backend: keyring.backend.KeyringBackend) -> keyring.backend.KeyringBackend:
        module = type(backend).__module__
        if module.startswith("keyring.backends.fail") or module.startswith("keyring.backends.null"):
            raise self._mark_broken(KeyringUnavailable("no_keyring", f"backend {module}"))
        if module.startswith("keyrings.alt") or "Plaintext" in type(backend).__name__:
            # A plaintext file is not a keyring: never write the configuration there.
            raise self._mark_broken(KeyringUnavailable("unsafe_keyring", f"backend {module}"))
        return backend

    def _bounded(self, function: Callable[[], R]) -> R:
        try:
            return bounded_call(function, self.timeout, name="vigie-keyring")
        except CallTimeout:
            raise self._mark_broken(
                KeyringUnavailable("keyring_timeout", f"no answer in {self.timeout:g} s")) from None
        except Exception as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: Exception) -> Exception:
        import keyring.errors

        if isinstance(exc, KeyringUnavailable):
            return self._mark_broken(exc)
        if isinstance(exc, keyring.errors.NoKeyringError):
            return self._mark_broken(KeyringUnavailable("no_keyring", str(exc)))
        if isinstance(exc, keyring.errors.KeyringLocked):
            return self._mark_broken(KeyringUnavailable("keyring_locked", str(exc)))
        if isinstance(exc, keyring.errors.InitError):
            return self._mark_broken(KeyringUnavailable("keyring_error", str(exc)))
        # pywintypes.error (Credential Manager) and D-Bus errors are not KeyringErrors.
        return KeyringUnavailable("keyring_error", f"{type(exc).__name__}: {exc}")

    def _mark_broken(self, error: KeyringUnavailable) -> KeyringUnavailable:
        log.warning("keyring unusable (%s): %s", error.code, error.log_detail)
        self._broken = error
        return error
