"""Publish a trainer's partial accumulators straight to a scale-out monitor's Kafka topic.

    from alphawatch import Moments
    from alphawatch.kafka import KafkaPublisher
    pub = KafkaPublisher("kafka:9092", run="my-run", source="rank0")
    m = Moments(512); m.add(rows, step=100)
    pub.send("layer3", m)       # waits for the broker's acknowledgement
    pub.close()

Needs kafka-python (Debian: python3-kafka). The records are the monitor's own (docs/scale-out.md):
a write-ahead-log frame of type 4 holding the partial accumulator, in the layer's partition
(CRC-32 of "run/layer" modulo the topic's partitions), so workers apply them exactly as if an
ingest node had published them. Prefer an ingest node (HTTP) unless the trainers can reach Kafka
and you want one hop less: HTTP also validates before publishing.
"""

import struct
import zlib

from .crc32c import crc32c  # native with Debian's python3-crc32c, else pure Python

RECORD_PARTIAL = 4


def _string(s):
    b = s.encode("utf-8")
    if len(b) > 0xFFFF:
        raise ValueError("name too long")
    return struct.pack("<H", len(b)) + b


def partial_record(run, layer, source, body, seq=0):
    """The framed record of a partial accumulator body (one or more AWPA bodies back to back)."""
    payload = _string(run) + _string(layer) + _string(source or "") + struct.pack("<I", len(body)) + body
    inner = struct.pack("<Bq", RECORD_PARTIAL, seq) + payload
    return struct.pack("<II", len(inner), crc32c(inner)) + inner


def partition(run, layer, partitions):
    """The layer's partition, as every node computes it."""
    return zlib.crc32(f"{run}/{layer}".encode("utf-8")) % partitions


class KafkaPublisher:
    """Sends partial accumulators of one run to the monitor's batch topic (acks from all replicas)."""

    def __init__(self, bootstrap, run, topic="alphawatch.batches", source=None, timeout=30.0):
        from kafka import KafkaProducer  # optional dependency

        self.run = run
        self.topic = topic
        self.source = source
        self.timeout = timeout
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=5,
                                      max_request_size=64 << 20, buffer_memory=128 << 20)
        parts = self.producer.partitions_for(topic)
        if not parts:
            raise ValueError(f"topic {topic} does not exist: start the monitor's nodes first (they create it)")
        self.partitions = len(parts)

    def send(self, layer, moments):
        """Publishes a Moments (or its encoded body) of `layer`; returns the record's offset."""
        body = moments if isinstance(moments, (bytes, bytearray)) else moments.encode()
        if body is None:
            return None
        future = self.producer.send(self.topic, key=f"{self.run}/{layer}".encode("utf-8"),
                                    value=partial_record(self.run, layer, self.source, bytes(body)),
                                    partition=partition(self.run, layer, self.partitions))
        return future.get(timeout=self.timeout).offset

    def close(self):
        self.producer.close(timeout=self.timeout)
