"""``smartplace broker accounts``: write a mosquitto password file and ACL for smartplace.

Used by ``docker-compose.yml`` (a one-shot service before the broker starts) and by
anyone setting up their own mosquitto: the ingestor's account (its user name is its
client id), a gateway/simulator account, a health-check account, and the sensor pattern
of :mod:`smartplace.broker_auth`; with a devices file, the topics of its formats too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from ingest.workers import worker_name
from sensors.errors import DevicesFileError
from sensors.topics import DEFAULT_PREFIX
from smartplace.broker_auth import (
    BrokerAccount,
    acl_file,
    format_topics,
    ingest_account,
    password_file,
    publisher_account,
)
from smartplace.help import PlainFlagsCommand, PlainFlagsGroup

broker_app = typer.Typer(cls=PlainFlagsGroup, help="Set up the MQTT broker's accounts.",
                         no_args_is_help=True)

HEALTH_TOPIC = "$SYS/broker/version"


def accounts_for(prefix: str, ingest_user: str, ingest_password: str, simulator_user: str,
                 simulator_password: str, health_password: str | None,
                 ingest_workers: int = 1, formats: Sequence[str] = ()) -> list[BrokerAccount]:
    """The accounts a smartplace broker needs (the health account only with a password;
    with workers, one ingest account per worker, ``<user>-<i>``, same password; with the
    ``formats`` topics of a devices file, read by the ingestor and written by the gateway)."""
    ingest = ingest_account(ingest_user, prefix, formats)
    users = [ingest_user] + ([worker_name(ingest_user, index)
                              for index in range(1, ingest_workers + 1)]
                             if ingest_workers > 1 else [])
    accounts = [
        *(BrokerAccount(user, ingest_password, ingest.read, ingest.write) for user in users),
        BrokerAccount(simulator_user, simulator_password,
                      write=publisher_account(simulator_user, prefix, formats).write),
    ]
    if health_password:
        accounts.append(BrokerAccount("smartplace-health", health_password, read=(HEALTH_TOPIC,)))
    return accounts


@broker_app.command("accounts", cls=PlainFlagsCommand)
def accounts(
    out: Annotated[Path, typer.Option(help="folder for the files passwd and acl")],
    ingest_password: Annotated[str, typer.Option(envvar="MQTT_INGEST_PASSWORD",
                                                 help="the ingestor account's password")],
    simulator_password: Annotated[str, typer.Option(
        envvar="MQTT_SIMULATOR_PASSWORD", help="the gateway/simulator account's password")],
    health_password: Annotated[str | None, typer.Option(
        envvar="MQTT_HEALTH_PASSWORD",
        help="password of smartplace-health, which may read $SYS/broker/version only")] = None,
    prefix: Annotated[str, typer.Option(envvar="SMARTPLACE_TOPIC_PREFIX")] = DEFAULT_PREFIX,
    ingest_user: Annotated[str, typer.Option(
        envvar="SMARTPLACE_INGEST_CLIENT_ID",
        help="the ingestor's user name, which is also its client id")] = "smartplace-ingest",
    simulator_user: Annotated[str, typer.Option()] = "smartplace-simulator",
    ingest_workers: Annotated[int, typer.Option(
        envvar="SMARTPLACE_INGEST_WORKERS", min=1, max=32,
        help="accounts for 'smartplace ingest --workers N' too (<user>-1 ... <user>-N)")] = 1,
    devices_file: Annotated[Path | None, typer.Option(
        envvar="SMARTPLACE_DEVICES_FILE", exists=True, dir_okay=False,
        help="the devices file: the ingestor may read its formats' topics (TTN's v3/..., "
        "tele/..., ...) and the gateway account publish on them")] = None,
) -> None:
    """Write OUT/passwd (hashed as mosquitto_passwd does) and OUT/acl."""
    try:
        formats = format_topics(devices_file, prefix)
    except DevicesFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    found = accounts_for(prefix, ingest_user, ingest_password, simulator_user,
                         simulator_password, health_password, ingest_workers, formats)
    out.mkdir(parents=True, exist_ok=True)
    (out / "passwd").write_text(password_file(found))
    (out / "acl").write_text(acl_file(found, [prefix]))
    # The broker runs as another user: readable, never writable, by others.
    for name in ("passwd", "acl"):
        (out / name).chmod(0o644)
    typer.echo(f"wrote {out / 'passwd'} and {out / 'acl'} "
               f"({', '.join(account.username for account in found)})")
