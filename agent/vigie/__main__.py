from vigie.cli import main

raise SystemExit(main())
