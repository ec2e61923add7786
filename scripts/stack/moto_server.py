"""The local stack's moto: scripts/moto_serial.py (one request at a time, DynamoDB transactions
that back up only the items they touch).

Usage: python scripts/stack/moto_server.py HOST PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

# Nothing written into the clone (scripts/__pycache__).
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import moto_serial  # noqa: E402

if __name__ == "__main__":
    moto_serial.main()
