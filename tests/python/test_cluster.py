"""A three-node Kafka-backed cluster survives a kill -9 of its leader, as Confluent's client sees it.

Why this file exists: several ``schemata serve`` nodes on one topic elect a leader through a
Kafka consumer group; followers forward writes to it, and when it dies without a word
(SIGKILL: no LeaveGroup) the group drops it only after the session timeout, after which
another node leads. Rust tests cover the election and the forwarding piece by piece; this
test checks the whole story end to end with the client applications actually use,
``confluent_kafka.schema_registry.SchemaRegistryClient``, given all three node URLs with the
leader's first, so that the client's first choice is the node that dies:

* every registration made through the same client object after the kill succeeds, without
  the test having to retry anything;
* the failover time (kill to the first successful registration) is measured and printed;
* afterwards both survivors serve every acknowledged subject with exactly one version and the
  id the client was given, ids are distinct, the client reads every schema back by id, and
  the survivors agree on a new leader that is one of them.

What the client (confluent-kafka 2.16, ``_sync/schema_registry_client.py``) does by itself:
``send_request`` tries the comma-separated URLs in order, starting from the first on every
call (it has no memory of a dead URL); on each URL ``send_http_request`` makes up to
``max.retries + 1`` attempts, sleeping a full-jitter backoff
(``random() * min(retries.wait.ms * 2**i, retries.max.wait.ms)``) between them, on transport
errors (connection refused, timeouts) and on the "retriable" statuses 408/429/500/502/503/504.
Schemata's 50003/50004 are HTTP 500, so they are retried on the same URL, then the next URL is
tried. A non-retriable answer (e.g. 4xx) is raised at once. Only if the LAST URL still fails
does the client give up: with a transport error it re-raises the httpx exception, with a 500
it raises ``SchemaRegistryError``. So after the kill each call first spends ``max.retries``
backoffs on the dead URL (refused at once on loopback), then goes to a survivor; a survivor
that knows no leader yet holds the write up to the write timeout (``--kafka-timeout-ms``,
10 s) waiting for one, so a single attempt there usually spans the whole failover. A follower
often learns the new leader from the group some seconds before that node learns it leads
(tansu 0.6 holds a rejoin 3 s); a write it forwards meanwhile is held by the leader-to-be
until it leads, rather than refused. The
settings below (``CLIENT_CONF``) give a survivor 4 attempts of up to 10 s each plus backoffs,
i.e. well over the ~20 s a failover may take; ``timeout`` is set above the write timeout so
that the client never abandons a request a follower is still holding (httpx's default in this
client is no timeout at all). The test retries a registration itself at most
``TEST_RETRIES`` times and asserts it never had to (the client gave up 0 times in every run).
"""

from __future__ import annotations

import json
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from conftest import KafkaNode, kafka_schemata

SESSION_TIMEOUT_MS = 6000
NODE_ARGS = ["--kafka-session-timeout-ms", str(SESSION_TIMEOUT_MS)]
AGREE_TIMEOUT = 30.0  # three nodes agreeing on a leader after start, or survivors after the kill
WRITES_BEFORE = 3
WRITES_AFTER = 10
AFTER_KILL_DEADLINE = 60.0  # for the WRITES_AFTER registrations after the kill, failover included
TEST_RETRIES = 2  # test-level retries allowed per registration (none were ever needed)
CLIENT_CONF = {
    # Per URL: 1 + 3 attempts; backoff full jitter of 200, 400, 800 ms (capped at 2 s).
    "max.retries": 3,
    "retries.wait.ms": 200,
    "retries.max.wait.ms": 2000,
    # Seconds; above the 10 s a follower may hold a write while no leader is known.
    "timeout": 30,
}


# ---------------------------------------------------------------------------------------
# Helpers


def unique_topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def record(name: str) -> str:
    return json.dumps(
        {"type": "record", "name": name, "namespace": "cluster", "fields": [{"name": "id", "type": "long"}]},
        separators=(",", ":"),
    )


def logs(nodes: list[KafkaNode], chars: int = 3000) -> str:
    return "".join(f"\n--- log tail of {n.url} ---\n{n.log_tail(chars)}" for n in nodes)


def ready(node: KafkaNode) -> dict:
    """What ``/health/ready`` says (its status code as ``http``), or why it said nothing."""
    try:
        reply = requests.get(node.url + "/health/ready", timeout=2)
        body = reply.json()
        body["http"] = reply.status_code
        return body
    except (requests.RequestException, ValueError) as e:
        return {"error": str(e)}


def agreed_leader(nodes: list[KafkaNode]) -> tuple[str | None, dict]:
    """The leader's URL if exactly one node says leader (and names itself) and all others
    say follower naming it; else None. Also returns what each node said."""
    said = {n.url: ready(n) for n in nodes}
    leaders = [url for url, r in said.items() if r.get("role") == "leader" and r.get("leader") == url]
    if len(leaders) != 1:
        return None, said
    [leader] = leaders
    for url, r in said.items():
        if url != leader and (r.get("role") != "follower" or r.get("leader") != leader):
            return None, said
    if any(r.get("http") != 200 for r in said.values()):
        return None, said
    return leader, said


def wait_for_leader(nodes: list[KafkaNode], timeout: float, why: str) -> str:
    deadline = time.monotonic() + timeout
    said: dict = {}
    while time.monotonic() < deadline:
        for n in nodes:
            if n.process.poll() is not None:
                pytest.fail(f"{n.url} exited with {n.process.returncode} ({why}){logs(nodes)}")
        leader, said = agreed_leader(nodes)
        if leader is not None:
            return leader
        time.sleep(0.1)
    pytest.fail(
        f"the nodes did not agree on one leader within {timeout}s ({why}); last said:\n"
        f"{json.dumps(said, indent=1)}{logs(nodes)}"
    )


def get_json(node: KafkaNode, path: str, nodes: list[KafkaNode]):
    reply = requests.get(node.url + path, timeout=10)
    if reply.status_code != 200:
        pytest.fail(f"GET {node.url}{path} answered {reply.status_code}: {reply.text[:1000]}{logs(nodes)}")
    return reply.json()


# ---------------------------------------------------------------------------------------
# The test


def test_confluent_client_rides_through_leader_kill(kafka_bootstrap: str, tmp_path: Path) -> None:
    topic = unique_topic("cluster")
    with ExitStack() as stack:
        nodes = [
            stack.enter_context(kafka_schemata(kafka_bootstrap, topic, tmp_path / f"node{i}", extra_args=NODE_ARGS))
            for i in range(3)
        ]
        leader_url = wait_for_leader(nodes, AGREE_TIMEOUT, "after start")
        # The leader is the eligible node with the smallest URL.
        assert leader_url == min(n.url for n in nodes), f"leader {leader_url}{logs(nodes)}"
        leader = next(n for n in nodes if n.url == leader_url)
        survivors = [n for n in nodes if n is not leader]
        urls = [leader.url] + [n.url for n in survivors]  # the client's first choice is the one to die
        client = SchemaRegistryClient({"url": ",".join(urls), **CLIENT_CONF})

        ids: dict[str, int] = {}
        texts: dict[str, str] = {}
        gave_up: list[str] = []  # each time the client raised (the test then retried)

        def register(n: int) -> float:
            """Registers schema number n under its own subject; returns when it succeeded."""
            subject, text = f"cluster-{n}-value", record(f"Rec{n}")
            for attempt in range(TEST_RETRIES + 1):
                started = time.monotonic()
                try:
                    ids[subject] = client.register_schema(subject, Schema(text, "AVRO"))
                    texts[subject] = text
                    return time.monotonic()
                except Exception as e:  # SchemaRegistryError or an httpx transport error
                    gave_up.append(
                        f"{subject} attempt {attempt + 1} after {time.monotonic() - started:.1f}s: "
                        f"{type(e).__name__}: {e}"
                    )
            pytest.fail(f"registering {subject} failed {TEST_RETRIES + 1} times: {gave_up}{logs(nodes)}")

        for n in range(WRITES_BEFORE):
            register(n)

        leader.process.kill()
        killed = time.monotonic()
        leader.process.wait(timeout=10)

        done_at = []
        for n in range(WRITES_BEFORE, WRITES_BEFORE + WRITES_AFTER):
            if time.monotonic() - killed > AFTER_KILL_DEADLINE:
                pytest.fail(
                    f"only {len(done_at)} of {WRITES_AFTER} registrations within {AFTER_KILL_DEADLINE}s "
                    f"of the kill; client gave up: {gave_up}{logs(survivors)}"
                )
            done_at.append(register(n))
        failover = done_at[0] - killed
        rest = [b - a for a, b in zip(done_at, done_at[1:])]
        print(
            f"\nfailover (kill -9 of the leader to the first successful registration): {failover:.2f}s; "
            f"the next {len(rest)} registrations took {min(rest):.2f}-{max(rest):.2f}s each "
            f"(total {done_at[-1] - killed:.2f}s after the kill); client gave up {len(gave_up)} times"
        )
        assert not gave_up, f"the client gave up (the test retried): {gave_up}"

        # The survivors agree on a new leader, one of them.
        new_leader = wait_for_leader(survivors, AGREE_TIMEOUT, "after the kill")
        assert new_leader in {n.url for n in survivors}, new_leader
        print(f"killed leader {leader.url}; client URLs {urls}; new leader {new_leader}")

        # Each survivor serves every acknowledged subject with exactly version 1 and its id.
        assert len(ids) == WRITES_BEFORE + WRITES_AFTER, ids
        assert len(set(ids.values())) == len(ids), f"ids are not distinct: {ids}"
        for node in survivors:
            subjects = get_json(node, "/subjects", survivors)
            missing = sorted(set(ids) - set(subjects))
            assert not missing, f"{node.url} lacks {missing} (has {subjects}){logs(survivors)}"
            for subject, id in ids.items():
                versions = get_json(node, f"/subjects/{subject}/versions", survivors)
                assert versions == [1], f"{node.url}: {subject} has versions {versions}{logs(survivors)}"
                v1 = get_json(node, f"/subjects/{subject}/versions/1", survivors)
                assert (v1["id"], v1["schema"]) == (id, texts[subject]), (
                    f"{node.url}: {subject} v1 is {v1}, the client was given id {id}{logs(survivors)}"
                )

        # The same client reads each schema back by id, from the registry (caches cleared).
        client.clear_caches()
        for subject, id in ids.items():
            got = client.get_schema(id)
            assert (got.schema_type or "AVRO", json.loads(got.schema_str)) == ("AVRO", json.loads(texts[subject])), (
                f"get_schema({id}) gave {got} for {subject}"
            )
