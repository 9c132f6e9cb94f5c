"""Building one paho client from `ConnectOptions`, and the small socket and future helpers of the bridge."""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from continuum_mqtt.types import ConnectOptions, Version, Will

__all__ = ["connect_arguments", "fail", "has_data", "new_client"]


def new_client(o: ConnectOptions, version: Version, will: Will | None) -> paho.Client:
    """A paho client for one attempt; the caller wires its callbacks. A fresh client per attempt, so no
    state of a failed or ended session (paho's queues, its first-connect flag) leaks into the next."""
    v5 = version == "5"
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=o.client_id,
        protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
        clean_session=None if v5 else o.clean_session,
        reconnect_on_failure=False,
    )
    client.suppress_exceptions = True
    client.max_inflight_messages_set(o.max_inflight)
    client.max_queued_messages_set(0)
    if o.username is not None:
        client.username_pw_set(o.username, o.password)
    if o.tls:
        context = ssl.create_default_context(cafile=str(o.ca_file) if o.ca_file else None)
        if o.cert_file is not None:
            context.load_cert_chain(str(o.cert_file), str(o.key_file) if o.key_file else None)
        context.check_hostname = o.check_hostname
        client.tls_set_context(context)
    if will is not None:
        client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
    return client


def connect_arguments(o: ConnectOptions, version: Version) -> dict[str, Any]:
    """Keyword arguments of paho's `connect()`: a kept v5 session needs clean start off and an expiry."""
    kwargs: dict[str, Any] = {"keepalive": o.keepalive_s}
    if version == "5" and not o.clean_session:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = o.session_expiry_s
        kwargs["clean_start"] = False
        kwargs["properties"] = props
    return kwargs


def has_data(sock: Any) -> bool:
    """Whether more bytes wait on the socket (without blocking or consuming them)."""
    if sock is None:
        return False
    if isinstance(sock, ssl.SSLSocket):
        return sock.pending() > 0
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except OSError:  # BlockingIOError included: nothing is waiting
        return False


def fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    """Fail `future` and mark the exception retrieved (whoever awaits it still gets it)."""
    if not future.done():
        future.set_exception(exc)
        future.exception()
