"""The local stack's moto: scripts/moto_serial.py (one request at a time), with DynamoDB
transactions that copy each table once.

moto backs up a table before a transaction by deep-copying it once per item of the transaction
that names it (the copies are identical; the last one is kept). With the seeded ledger (thousands
of items) a four-item transaction then takes most of the trigger's one-second attempt timeout on a
busy machine, the SDK retries while moto is still copying, and the migration fails as
`ledger_unavailable`. One copy per table and transaction is the same backup, made once.

Usage: python scripts/stack/moto_server.py HOST PORT
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import moto.dynamodb.models as dynamodb_models

# Nothing written into the clone (scripts/__pycache__).
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import moto_serial  # noqa: E402


class OneCopyPerObject:
    """Stands in for the `copy` module inside one transaction: each object is copied once."""

    def __init__(self) -> None:
        self.copies: dict[int, object] = {}

    def deepcopy(self, value, memo=None):
        if id(value) not in self.copies:
            self.copies[id(value)] = copy.deepcopy(value, memo)
        return self.copies[id(value)]


original_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    # Safe to swap the module's `copy` for the call: moto_serial serves one request at a time.
    dynamodb_models.copy = OneCopyPerObject()
    try:
        return original_transact_write_items(self, transact_items)
    finally:
        dynamodb_models.copy = copy


dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items

if __name__ == "__main__":
    moto_serial.main()
