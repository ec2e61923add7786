"""moto's server, answering one request at a time, with DynamoDB transactions that back up only
the items they touch.

moto applies a DynamoDB transaction by deep-copying every table it names (once per item of the
transaction) and putting the copies back when it fails. On a ledger of thousands of items that
makes each transaction cost seconds and memory in proportion to the table, and the writes of any
request served meanwhile are lost on a rollback. Real DynamoDB does neither. Here a transaction
copies the items it names, and a failed one puts back exactly those; requests are served one at
a time, since moto's models are not thread-safe.

Usage: python scripts/moto_serial.py HOST PORT
"""

import copy
import os
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class NoTableCopy:
    """Stands in for the `copy` module inside a transaction: the table is not copied whole (the
    touched items are backed up instead), so moto's own rollback puts the same table back."""

    @staticmethod
    def deepcopy(value, memo=None):
        return value


def _item_key(backend, op_type, op):
    table = backend.tables.get(op.get("TableName"))
    if table is None:
        return None, None, None
    key = op["Item"] if op_type == "Put" else op.get("Key", {})
    if table.hash_key_attr not in key:
        return None, None, None
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = None
    if table.range_key_attr is not None and table.range_key_attr in key:
        range_value = DynamoType(key[table.range_key_attr])
    return table, hash_value, range_value


def _stored(table, hash_value, range_value):
    if range_value is not None:
        return table.items.get(hash_value, {}).get(range_value)
    return table.items.get(hash_value)


def _restore(table, hash_value, range_value, item):
    if range_value is not None:
        if item is None:
            table.items.get(hash_value, {}).pop(range_value, None)
            if hash_value in table.items and not table.items[hash_value]:
                del table.items[hash_value]
        else:
            table.items[hash_value][range_value] = item
    elif item is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = item


original_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    backups = []
    for entry in transact_items:
        if len(entry) != 1:
            continue
        op_type, op = next(iter(entry.items()))
        table, hash_value, range_value = _item_key(self, op_type, op)
        if table is not None:
            stored = _stored(table, hash_value, range_value)
            backups.append((table, hash_value, range_value, copy.deepcopy(stored)))
    dynamodb_models.copy = NoTableCopy()
    try:
        return original_transact_write_items(self, transact_items)
    except Exception:
        # Put back exactly what the transaction touched, last change first.
        for table, hash_value, range_value, item in reversed(backups):
            _restore(table, hash_value, range_value, item)
        raise
    finally:
        dynamodb_models.copy = copy


dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(host, port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
