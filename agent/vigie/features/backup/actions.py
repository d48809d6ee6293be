"""The buttons the backup checks offer (on the status window's cards and on their notifications)."""

from __future__ import annotations

from vigie.model import Action, T

DRILL = "drill"  # « Tester ma sauvegarde »: BackupFeature.act(DRILL)
DRILL_ACTION = Action(f"backup:{DRILL}", T("Test my backup now"))
# The setup assistant, at its backup step: the first_run feature opens it (FirstRunFeature.act).
ENROLL_ACTION = Action("first_run:backup", T("Set up a backup"))
