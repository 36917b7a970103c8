import sys

from todo_service.run.cli import main

sys.exit(main())
