from policybench.cli import main

raise SystemExit(main())
