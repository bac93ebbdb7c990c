from agnews.cli import main

raise SystemExit(main())
