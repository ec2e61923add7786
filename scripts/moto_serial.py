"""moto's server, answering one request at a time.

moto applies a DynamoDB transaction by copying each table it touches and putting the copies back
when the transaction fails, so the writes of any request served meanwhile are lost. Real DynamoDB
does not do that; tests that send transactions concurrently run against this server instead of
`moto_server`, so they see DynamoDB's behaviour rather than moto's race.

Usage: python scripts/moto_serial.py HOST PORT
"""

import os
import sys
import threading

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


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
