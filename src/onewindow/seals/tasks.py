"""The seals' work beside the API: the MQTT listener that takes devices' signed events, and
the sweep that finds trips gone silent. `onewindow serve` runs both in its main process when
`seals_mqtt_url` is set (the sweep whenever `seals_sweep_seconds` is not 0);
`onewindow seals listen` runs the listener alone.

The listener subscribes to `<prefix>/+/events` (by default `onewindow/seals/{device}/events`)
at QoS 1 with manual acknowledgement: a message is acknowledged to the broker only once what
it carried is committed (or refused for good), so a node that dies mid-batch has the broker
send it again, and the duplicate is ignored by its event id. Messages that arrive together are
taken in one transaction; if one of them is refused, each is then taken on its own.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from onewindow.kit import db
from onewindow.kit.errors import InvalidSetting, OneWindowError
from onewindow.kit.node import Node
from onewindow.seals import credentials, intake, service
from onewindow.seals.schemas import EventIn

log = logging.getLogger("onewindow.seals")
DEFAULT_PREFIX = "onewindow/seals"
DEFAULT_BROKER = "mqtt://127.0.0.1:1883"


def broker_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise InvalidSetting(f"seals_mqtt_url must be mqtt://host[:port], not {url!r}")
    return parts.hostname, parts.port or 1883


@dataclass
class Counts:
    taken: int = 0  # events stored
    duplicates: int = 0
    refused: int = 0  # messages refused: unsigned, badly signed, unknown device, bad event
    alerts: int = 0


class Listener:
    def __init__(
        self,
        node: Node,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        client_id: str = "",
        batch_size: int = 500,
    ) -> None:
        self.node, self.prefix, self.batch_size = node, prefix.rstrip("/"), batch_size
        self.host, self.port = broker_address(url)
        self.counts = Counts()
        self.subscribed = threading.Event()
        self._queue: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._worker = threading.Thread(target=self._run, name="seals-mqtt", daemon=True)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"onewindow-{node.settings.country}",
            clean_session=not client_id,  # a session the broker keeps needs a stable id
            manual_ack=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    @property
    def topic(self) -> str:
        return f"{self.prefix}/+/events"

    def start(self) -> None:
        self._worker.start()
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        """Stop taking messages; those already received are stored first."""
        self.client.disconnect()
        self.client.loop_stop()
        self._stop.set()
        self._worker.join(timeout=30)

    def _on_connect(
        self, client: mqtt.Client, _data: object, _flags: object, code: object, _props: object
    ) -> None:
        log.info("seals.mqtt_connected broker=%s:%s code=%s", self.host, self.port, code)
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, *_: object) -> None:
        self.subscribed.set()

    def _on_message(self, _client: mqtt.Client, _data: object, message: mqtt.MQTTMessage) -> None:
        self._queue.put(message)

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            try:
                batch = [self._queue.get(timeout=0.2)]
            except queue.Empty:
                continue
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.take(batch)
            except Exception:  # the database away: not acknowledged, the broker resends
                log.exception("seals.mqtt_failed count=%d", len(batch))
                continue
            for message in batch:
                self.client.ack(message.mid, message.qos)

    def device_of(self, topic: str) -> str:
        head, tail = f"{self.prefix}/", "/events"
        if not (topic.startswith(head) and topic.endswith(tail)):
            raise ValueError(topic)
        return topic[len(head) : -len(tail)]

    def take(self, messages: list[mqtt.MQTTMessage]) -> None:
        """Open and check each message, then store their events."""
        events: list[EventIn] = []
        with self.node.transaction() as session:
            for message in messages:
                try:
                    device = self.device_of(message.topic)
                    events.append(credentials.open_signed(session, device, bytes(message.payload)))
                except (OneWindowError, ValueError) as exc:
                    self._refused(message.topic, exc)
        if not events:
            return
        try:
            self._ingest(events)
        except OneWindowError:
            for event in events:  # each alone: one refused event must not hold back the rest
                try:
                    self._ingest([event])
                except OneWindowError as exc:
                    self._refused(event.device, exc)

    def _ingest(self, events: list[EventIn]) -> None:
        now = self.node.clock.now()
        with self._lock, db.write_transaction(self.node.sessions) as session:
            done = intake.ingest(session, events, source=intake.Source(), now=now)
        self.counts.taken += done.accepted
        self.counts.duplicates += done.duplicates
        self.counts.alerts += len(done.alerts)

    def _refused(self, where: str, exc: Exception) -> None:
        self.counts.refused += 1
        log.warning("seals.mqtt_refused from=%s reason=%s", where, exc)


def sweep_once(node: Node) -> int:
    with db.write_transaction(node.sessions) as session:
        return len(service.sweep(session, now=node.clock.now()))


def run_sweeps(node: Node, interval: float, stop: threading.Event) -> None:
    """Every `interval` seconds, a silence alert for each trip not heard for too long. Meant
    for a daemon thread; never raises (a failed round is logged, the next one tries again)."""
    while not stop.wait(interval):
        try:
            raised = sweep_once(node)
            if raised:
                log.info("seals.silence_alerts count=%d", raised)
        except Exception:
            log.exception("seals.sweep_failed")
