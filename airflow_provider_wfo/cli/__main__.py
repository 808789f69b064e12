"""``python -m airflow_provider_wfo.cli``: same as ``wfo``."""

import sys

from airflow_provider_wfo.cli import main

sys.exit(main())
