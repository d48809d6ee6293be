from vigie.launch import main

raise SystemExit(main())
