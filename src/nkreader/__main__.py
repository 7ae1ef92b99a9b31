import sys

from nkreader.cli import main

sys.exit(main())
