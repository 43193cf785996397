"""Publish a trainer's partial accumulators straight to a scale-out monitor's Kafka topic.

    from alphawatch import Moments
    from alphawatch.kafka import KafkaPublisher
    pub = KafkaPublisher("kafka:9092", run="my-run", source="rank0")
    m = Moments(512); m.add(rows, step=100)
    pub.send("layer3", m)       # waits for the broker's acknowledgement
    pub.close()

Needs kafka-python (Debian: python3-kafka). The records are the monitor's own (docs/scale-out.md,
docs/durability.md): a write-ahead-log frame of type 6 holding the partial accumulator, this
publisher's sender id and its number for the layer, in the layer's partition (CRC-32 of
"run/layer" modulo the topic's partitions), so workers apply them exactly as if an ingest node had
published them, and exactly once: a send the broker did not confirm is sent again with the same
number, which the worker applies at most once. Prefer an ingest node (HTTP) unless the trainers can
reach Kafka and you want one hop less: HTTP also asks the layer's owner before acknowledging.
The record layout is pinned by a golden file both languages read
(src/test/resources/golden/partials/kafka-partial-record.bin).
"""

import os
import struct
import zlib

from .crc32c import crc32c  # native with Debian's python3-crc32c, else pure Python

RECORD_PARTIAL = 4
RECORD_NUMBERED_PARTIAL = 6


def _string(s):
    b = s.encode("utf-8")
    if len(b) > 0xFFFF:
        raise ValueError("name too long")
    return struct.pack("<H", len(b)) + b


def partial_record(run, layer, source, body, seq=0, sender=None, number=None):
    """The framed record of a partial accumulator body (one or more AWPA bodies back to back):
    type 6 with `sender` and its request `number` for the layer (exactly once), type 4 without."""
    payload = _string(run) + _string(layer) + _string(source or "") + struct.pack("<I", len(body)) + body
    kind = RECORD_PARTIAL
    if sender is not None:
        if number is None or number < 1:
            raise ValueError("a numbered record needs number >= 1")
        payload += _string(sender) + struct.pack("<q", number)
        kind = RECORD_NUMBERED_PARTIAL
    inner = struct.pack("<Bq", kind, seq) + payload
    return struct.pack("<II", len(inner), crc32c(inner)) + inner


def partition(run, layer, partitions):
    """The layer's partition, as every node computes it."""
    return zlib.crc32(f"{run}/{layer}".encode("utf-8")) % partitions


class KafkaPublisher:
    """Sends partial accumulators of one run to the monitor's batch topic (acks from all replicas)."""

    def __init__(self, bootstrap, run, topic="alphawatch.batches", source=None, timeout=30.0, attempts=3):
        from kafka import KafkaProducer  # optional dependency

        self.run = run
        self.topic = topic
        self.source = source
        self.timeout = timeout
        self.attempts = attempts
        self.sender = os.urandom(11).hex()  # as the HTTP Monitor: never reused, so numbers never repeat
        self.numbers = {}
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=5,
                                      max_request_size=64 << 20, buffer_memory=128 << 20)
        parts = self.producer.partitions_for(topic)
        if not parts:
            raise ValueError(f"topic {topic} does not exist: start the monitor's nodes first (they create it)")
        self.partitions = len(parts)

    def send(self, layer, moments):
        """Publishes a Moments (or its encoded body) of `layer`; returns the record's offset. A send
        the broker did not confirm is repeated (the same record, the same number) up to `attempts`
        times; the worker applies it once however many copies arrive."""
        body = moments if isinstance(moments, (bytes, bytearray)) else moments.encode()
        if body is None:
            return None
        number = self.numbers.get(layer, 0) + 1
        self.numbers[layer] = number
        record = partial_record(self.run, layer, self.source, bytes(body), sender=self.sender, number=number)
        for attempt in range(self.attempts):
            future = self.producer.send(self.topic, key=f"{self.run}/{layer}".encode("utf-8"), value=record,
                                        partition=partition(self.run, layer, self.partitions))
            try:
                return future.get(timeout=self.timeout).offset
            except Exception:  # kafka-python's errors (timeouts, broker gone): the record may be there
                if attempt + 1 == self.attempts:
                    raise

    def close(self):
        self.producer.close(timeout=self.timeout)
