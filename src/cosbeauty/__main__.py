from cosbeauty.cli import main

raise SystemExit(main())
