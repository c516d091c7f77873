"""A real SMTP server on 127.0.0.1 for the mail tests and bench/mail.sh (aiosmtpd from PyPI,
installed into target/mail-venv by ensure_mail_venv in scripts/lib.sh).

Every accepted message is stored as one JSON file in --dir ({"mail_from", "rcpt_tos", "data",
and, read back with Python's email package as a mail client would, "subject" and "text": the
decoded plain-text part}),
written under a temporary name and renamed, so a reader never sees half a message. The first
line on stdout is "PORT <n>" once the server listens; it stops when stdin closes (its parent
went away) or on SIGTERM.

  --port N           listen on N (default 0: any free port)
  --tls CERT KEY     offer STARTTLS with this certificate and refuse mail without it
  --auth USER:PASS   require AUTH PLAIN or LOGIN with these credentials
  --fail-first N     answer 421 (try again later) to the first N messages
  --reject           answer 550 to every message
  --defer ADDRESS    answer 451 (try again later) to every message for ADDRESS, as a server
                     greylisting one recipient does, and take the others
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import logging
import os
import signal
import ssl
import sys

# aiosmtpd logs a warning about its own use of a deprecated attribute on every log-in.
logging.getLogger("mail.log").setLevel(logging.ERROR)

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Store:
    def __init__(self, directory, fail_first, reject, defer):
        self.directory = directory
        self.fail_first = fail_first
        self.reject = reject
        self.defer = defer
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        if self.reject:
            return "550 5.7.1 Rejected by the test server"
        if self.fail_first > 0:
            self.fail_first -= 1
            return "421 4.3.2 Test server busy, try again later"
        if self.defer and self.defer in envelope.rcpt_tos:
            return "451 4.7.1 Greylisted, try again later"
        n = next(self.numbers)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        }
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        plain = parsed.get_body(("plain",))
        record["subject"] = str(parsed["Subject"] or "")
        record["text"] = plain.get_content() if plain is not None else ""
        tmp = os.path.join(self.directory, f".{os.getpid()}-{n}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.directory, f"{os.getpid()}-{n:06}.json"))
        return "250 2.0.0 Stored"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: aiosmtpd answers 535 itself (by default it leaves that to us).
        return AuthResult(success=ok, handled=False)

    return check


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--reject", action="store_true")
    parser.add_argument("--defer")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    store = Store(args.dir, args.fail_first, args.reject, args.defer)
    tls_context = None
    if args.tls:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(*args.tls)
    options = dict(
        hostname="smtp-test.localhost",
        tls_context=tls_context,
        require_starttls=tls_context is not None,
        # The bench sends large batches over few connections; the default cap is 10,000 bytes
        # of command lines per message, which no test comes near.
        data_size_limit=10 * 1024 * 1024,
    )
    if args.auth:
        user, password = args.auth.split(":", 1)
        options.update(
            authenticator=authenticator(user, password),
            auth_required=True,
            auth_require_tls=tls_context is not None,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(store, **options), host="127.0.0.1", port=args.port
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)

    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    # stdin closing means the test that started the server is gone.
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.read(1) or stop.set())
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
