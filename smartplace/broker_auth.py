"""Broker accounts for the local mosquitto: its password file and its ACL.

The demo, the tests and the benchmarks run the broker the way ``deploy/mosquitto/`` ships
it: no anonymous clients, a client's id is its user name (so nobody can connect with the
ingestor's id and take over its persistent session), and an ACL that lets

- the ingestor account read everything under the prefix (and publish the grid feed),
- a gateway or simulator account publish under the prefix,
- any other account (a sensor's own) publish only on topics ending with its user name,
  that is its own sensor id: ``<prefix>/<domain>/<site>/<user>``.

Passwords are hashed as ``mosquitto_passwd`` does (PBKDF2-SHA512, 101 rounds, ``$7$``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sensors.formats.devices_loader import load_devices
from sensors.formats.translator import Translator
from sensors.topics import normalise_prefix

PBKDF2_ROUNDS = 101  # mosquitto_passwd's own choice (mosquitto 2.0)


@dataclass(frozen=True)
class BrokerAccount:
    """One user of the broker and the topics it may read and write."""

    username: str
    password: str
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()

    def url(self, host: str, port: int) -> str:
        """An ``mqtt://`` URL carrying this account's credentials."""
        return f"mqtt://{self.username}:{self.password}@{host}:{port}"


def new_password() -> str:
    """A random password that needs no escaping in a URL."""
    return secrets.token_urlsafe(18)


def ingest_account(username: str, prefix: str, extra_read: Iterable[str] = ()) -> BrokerAccount:
    """The ingestor: reads everything under ``prefix``, publishes the grid feed there."""
    root = normalise_prefix(prefix)
    return BrokerAccount(username, new_password(), read=(f"{root}/#", *extra_read),
                         write=(f"{root}/grid/#",))


def publisher_account(username: str, prefix: str, extra_write: Iterable[str] = ()
                      ) -> BrokerAccount:
    """A gateway or the simulator: publishes anything under ``prefix`` (and on
    ``extra_write``, e.g. device formats' topics), reads nothing."""
    return BrokerAccount(username, new_password(),
                         write=(f"{normalise_prefix(prefix)}/#", *extra_write))


def format_topics(devices_file: Path | None, prefix: str) -> list[str]:
    """The topic filters of the devices file's formats outside ``<prefix>/#`` (contract
    7.2), which the ingestor must read and the gateway account may publish on.

    Raises:
        DevicesFileError: the file is unusable (the message names the entry).
    """
    if devices_file is None:
        return []
    return Translator(load_devices(devices_file), prefix).subscriptions()


def password_line(account: BrokerAccount, salt: bytes | None = None) -> str:
    """``user:$7$101$<salt>$<hash>``, a line of a mosquitto password file."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", account.password.encode(), salt, PBKDF2_ROUNDS)
    return (f"{account.username}:$7${PBKDF2_ROUNDS}$"
            f"{base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}")


def password_file(accounts: Iterable[BrokerAccount]) -> str:
    """The whole password file."""
    return "".join(password_line(account) + "\n" for account in accounts)


def acl_file(accounts: Iterable[BrokerAccount], prefixes: Iterable[str]) -> str:
    """The ACL: the sensor pattern for every prefix, then each account's own topics."""
    lines = ["# Any account may publish on the topics of the sensor that bears its name."]
    # A prefix here may hold wildcards ("test/+": every test's own prefix).
    lines += [f"pattern write {prefix.strip('/')}/+/+/%u" for prefix in prefixes]
    for account in accounts:
        lines += ["", f"user {account.username}"]
        lines += [f"topic read {topic}" for topic in account.read]
        lines += [f"topic write {topic}" for topic in account.write]
    return "\n".join(lines) + "\n"
