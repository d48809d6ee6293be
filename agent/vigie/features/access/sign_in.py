"""sign_in: can someone open this computer without a password (automatic sign-in, no password when it
wakes up), and does the daily account hold every right (administrator)?"""

from __future__ import annotations

from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.features.access.texts import joined
from vigie.model import TN, Finding, Severity, T, Text
from vigie.platform.base import PlatformError, SignInState

AUTO_LOGIN_FIX = {
    "winlogon": T("Press Windows + R, type netplwiz, then tick “Users must enter a user name and password to use "
                  "this computer”."),
    "loginwindow": T("Open System Settings › Users & Groups and set “Automatically log in as” to “Off”."),
    "gdm": T("Open Settings › Users and turn off “Automatic Login”."),
    "lightdm": T("Ask your IT provider to remove the automatic login from LightDM's settings."),
    "sddm": T("Open System Settings › Startup and Shutdown › Login Screen and turn off automatic login."),
}
WAKE_FIX = {
    "windows": T("Open Settings › Accounts › Sign-in options and, under “If you've been away, when should Windows "
                 "require you to sign in again?”, choose “When PC wakes up from sleep”."),
    "macos": T("Open System Settings › Lock Screen and require the password “Immediately” after the screen saver "
               "or the display turns off."),
    "linux": T("Turn on the screen lock in your desktop's settings (GNOME: Settings › Privacy › Screen, "
               "“Automatic Screen Lock”)."),
}
ADMIN_FIX = T("Ask your IT provider for a separate administrator account kept for installations, and make this "
              "daily account a standard one.")
NOT_CHECKED = {
    "auto_login": T("automatic sign-in"),
    "password_on_wake": T("password on wake-up"),
    "admin": T("the account's rights"),
}


class SignInCheck:
    id: ClassVar[str] = "sign_in"
    label: ClassVar[Text] = T("Sign-in")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        try:
            state = ctx.platform.sign_in()
        except PlatformError as exc:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not check how this computer is opened."),
                           detail=exc.reason, facts={"error": type(exc).__name__})
        return self._judge(state, ctx.platform.name)

    def _judge(self, state: SignInState, platform: str) -> Finding:
        facts = {
            "user": state.user,
            "auto_login_user": state.auto_login_user,
            "auto_login_source": state.auto_login_source,
            "auto_login_read": state.auto_login_read,
            "password_on_wake": state.password_on_wake,
            "admin": state.admin,
            "unreadable": list(state.unreadable),
        }
        problems: list[tuple[Text, Text | None]] = []  # (what is wrong, what to do)
        if state.auto_login_user is not None:
            who = state.auto_login_user or "?"
            problems.append((T("This computer opens the session of {user} by itself, without a password.", user=who),
                             AUTO_LOGIN_FIX.get(state.auto_login_source)))
        if state.password_on_wake is False:
            problems.append((T("No password is asked when this computer wakes up."),
                             WAKE_FIX.get(platform, WAKE_FIX["linux"])))
        if state.admin:
            problems.append((T("The daily account {user} is an administrator: a program opened by mistake gets every "
                               "right on this computer.", user=state.user), ADMIN_FIX))
        if len(problems) == 1:
            (title, fix), = problems
            return Finding(self.id, Severity.WARNING, title, fix=fix, facts=facts)
        if problems:
            title = TN("{n} sign-in weakness on this computer.", "{n} sign-in weaknesses on this computer.",
                       len(problems))
            fixes = tuple(fix for _, fix in problems if fix is not None)
            return Finding(self.id, Severity.WARNING, title, T("{items}", items=tuple(t for t, _ in problems)),
                           T("{items}", items=fixes) if fixes else None, facts=facts)
        unknown = [key for key, known in (("auto_login", state.auto_login_read),
                                          ("password_on_wake", state.password_on_wake is not None),
                                          ("admin", state.admin is not None)) if not known]
        if len(unknown) == len(NOT_CHECKED):
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not check how this computer is opened."),
                           facts=facts)
        detail = T("Not checked here: {what}.", what=joined([NOT_CHECKED[key] for key in unknown])) if unknown else None
        return Finding(self.id, Severity.OK, T("No sign-in weakness found."), detail, facts=facts)
