"""The backup watch: where backups are, how old the newest one is, and whether it restores.

`destination` handles enrolled folders and drives (the `.vigie-backup-id` marker), `scan` the
bounded walks that must never crawl a whole NAS, `sources` turns the configuration into readable
sources (folders, restic, borg, the OS's own tools), `drill` restores a few files and compares
them. Nothing here writes into a backup or into the user's files, except the marker that
`vigie backup enroll` and `vigie backup mark` write on purpose.
"""
