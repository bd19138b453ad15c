"""The config files of the local ``mosquitto`` and ``influxd`` (:mod:`smartplace.servers`
runs them): loopback only, persistence on, and a broker that never drops queued QoS 1
messages."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path

# A broker killed with -9 loses what it acknowledged since its last save: at most this many
# seconds (the benchmarks of broker persistence change it before a broker starts).
AUTOSAVE_INTERVAL_S = 1


@dataclass(frozen=True)
class ServerTls:
    """A server's TLS files; ``require_client_cert`` asks clients for a certificate signed
    by ``ca_file`` (mutual TLS)."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    require_client_cert: bool = False


def mosquitto_config(port: int, data_dir: Path, auth_dir: Path | None = None,
                     tls: ServerTls | None = None) -> str:
    """A broker config for one loopback listener that keeps every queued QoS 1 message.

    With ``auth_dir`` (the demo, the tests, the benchmarks), clients must log in with an
    account of ``auth_dir/passwd`` and are held to ``auth_dir/acl``, as in
    ``deploy/mosquitto/mosquitto.conf``; a client's id is its user name.
    """
    listener = [f"listener {port} 127.0.0.1"]
    if tls is not None:
        listener += [f"cafile {tls.ca_file}", f"certfile {tls.cert_file}",
                     f"keyfile {tls.key_file}",
                     f"require_certificate {str(tls.require_client_cert).lower()}"]
    auth = ["allow_anonymous true"] if auth_dir is None else [
        "allow_anonymous false",
        f"password_file {auth_dir}/passwd",
        f"acl_file {auth_dir}/acl",
    ]
    return "\n".join(
        [
            "per_listener_settings false",
            *listener,
            # A client's id is its user name: nobody can take over another account's
            # persistent session (the ingestor's queue) by connecting with its id.
            "use_username_as_clientid true",
            # Started as root, mosquitto switches to the "mosquitto" user, which cannot
            # write its persistence file in our folder: sessions and queued messages would
            # then be lost at a restart. Stay the user that started it.
            f"user {getpass.getuser()}",
            *auth,
            "persistence true",
            f"persistence_location {data_dir}/",
            # A kill -9 of the broker loses what it acknowledged since its last save: at
            # most this many seconds (README, "Nothing lost").
            f"autosave_interval {AUTOSAVE_INTERVAL_S}",
            # Abandoned sessions go after 30 days (mosquitto caps every session with it).
            "persistent_client_expiration 30d",
            # 0 = no limit: the default (1000) drops QoS 1 messages for a slow subscriber.
            "max_queued_messages 0",
            "max_queued_bytes 0",
            # Queue QoS 0 messages for an offline persistent session too: TTN's uplinks
            # arrive over a bridge at QoS 0 (README, "Connect your devices").
            "queue_qos0_messages true",
            # For MQTT 3.1.1 clients; MQTT 5 clients set their own Receive Maximum.
            "max_inflight_messages 1000",
            "set_tcp_nodelay true",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "",
        ]
    )


def influxd_config(http_port: int, rpc_port: int, data_dir: Path, *,
                   auth_enabled: bool = False, tls: ServerTls | None = None) -> str:
    """An InfluxDB 1.x config bound to loopback with its data under ``data_dir``; with
    ``auth_enabled`` every request needs a user (create the admin first), with ``tls``
    it serves HTTPS."""
    https = "" if tls is None else (
        f'  https-enabled = true\n  https-certificate = "{tls.cert_file}"\n'
        f'  https-private-key = "{tls.key_file}"\n')
    return f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{data_dir}/meta"

[data]
  dir = "{data_dir}/data"
  wal-dir = "{data_dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false

[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
  max-body-size = 0
  auth-enabled = {str(auth_enabled).lower()}
{https}
[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[logging]
  level = "warn"
"""
