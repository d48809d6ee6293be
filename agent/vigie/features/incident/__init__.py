"""« Vous pensez être victime d’une attaque ? »: the offline incident guide's core.

One incident at a time is open. Its state lives in a private folder (paths.data_dir()/incidents/ID/,
0700) as incident.json (0600, replaced atomically at every change), so a crash, a kill -9 or a
restart resumes at the same step. Evidence is gathered in ID/evidence/ with a SHA-256 manifest.
Closing an incident archives its folder (incidents/archive/ID); Vigie never deletes one.

For the agent (tray and engine), light imports only (no Tk, no Pillow, no fpdf2):
    deadlines.open_incident_summary(now)    the tray tooltip while an incident is open, else None
    state.start_incident(now, contacts)     open one (journal: incident_opened) or return the open one
    contacts.IncidentContacts               IT provider and insurer, from the configuration
This package's own module imports nothing: the agent reads its tray menu from menu.py before it loads any
feature, and the guide's window process imports windows.py alone (issue 21).
The guide itself is the child window `vigie ui incident` (vigie.features.incident.window).
"""

