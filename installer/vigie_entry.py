"""The bundle's entry point: the same `vigie` command as the console script.

VIGIE_BUNDLE_IMPORT_CHECK=mod1,mod2 (packaging tests only): import each module, print the failures
as JSON and exit, without starting Vigie: it proves the frozen program carries what the code needs.
"""

import os


def _import_check(names: str) -> int:
    import importlib
    import json

    failures = {}
    for name in filter(None, names.split(",")):
        try:
            importlib.import_module(name)
        except BaseException as exc:  # report everything, SystemExit included
            failures[name] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(failures))
    return 0


if os.environ.get("VIGIE_BUNDLE_IMPORT_CHECK"):
    raise SystemExit(_import_check(os.environ["VIGIE_BUNDLE_IMPORT_CHECK"]))

from vigie.launch import main  # noqa: E402 - slim: `vigie ui …` and the agent skip vigie.cli

raise SystemExit(main())
