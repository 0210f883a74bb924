#!/usr/bin/env python3
"""S3 source benchmark: CPU cost of a not-modified poll, and upload-to-answer time.

Starts moto_server and a release `guidon serve` on 127.0.0.1, both stopped at the
end. Usage: bench/s3.py [target/release/guidon]
"""
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

import boto3

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/guidon"
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def doc(enabled):
    return f"flags:\n  - {{key: f, name: F, type: BOOLEAN_FLAG_TYPE, enabled: {str(enabled).lower()}}}\n"


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def metric(port, name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    for line in text.splitlines():
        if line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise SystemExit(f"{name} missing")


def enabled(port):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/evaluate/v1/boolean",
        data=json.dumps({"flagKey": "f", "entityId": "e"}).encode(),
        method="POST",
    )
    return json.load(urllib.request.urlopen(req))["enabled"]


def run(poll, seconds, measure):
    moto_port, http_port = free_port(), free_port()
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(moto_port)
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{moto_port}", aws_access_key_id="k",
                          aws_secret_access_key="s", region_name="us-east-1")
        s3.create_bucket(Bucket="flags")
        s3.put_object(Bucket="flags", Key="features.yml", Body=doc(False).encode())
        env = dict(os.environ, AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s", AWS_REGION="us-east-1",
                   AWS_EC2_METADATA_DISABLED="true", FLIPT_STORAGE_TYPE="object",
                   FLIPT_STORAGE_OBJECT_TYPE="s3", FLIPT_STORAGE_OBJECT_S3_BUCKET="flags",
                   FLIPT_STORAGE_OBJECT_S3_ENDPOINT=f"http://127.0.0.1:{moto_port}",
                   FLIPT_STORAGE_OBJECT_S3_POLL_INTERVAL=poll, FLIPT_LOG_LEVEL="warn")
        guidon = subprocess.Popen([BIN, "serve", "--host", "127.0.0.1", "--http-port", str(http_port)], env=env)
        try:
            wait_port(http_port)
            return measure(s3, guidon.pid, http_port, seconds)
        finally:
            guidon.terminate()
            guidon.wait()
    finally:
        moto.terminate()
        moto.wait()


def not_modified_cost(s3, pid, port, seconds):
    time.sleep(1)
    cpu0, polls0, nm0 = cpu_seconds(pid), metric(port, "guidon_source_polls_total"), metric(port, "guidon_source_not_modified_total")
    time.sleep(seconds)
    cpu1, polls1, nm1 = cpu_seconds(pid), metric(port, "guidon_source_polls_total"), metric(port, "guidon_source_not_modified_total")
    loads = metric(port, "guidon_source_loads_total")
    polls, nm = polls1 - polls0, nm1 - nm0
    print(f"not-modified polls: {nm:.0f} of {polls:.0f} polls in {seconds} s, compiles in total: {loads:.0f}")
    print(f"server CPU per poll (LIST + conditional GET answered 304): {(cpu1 - cpu0) / polls * 1000:.2f} ms")


def propagation(s3, pid, port, rounds):
    times = []
    state = False
    for _ in range(rounds):
        state = not state
        # Upload at a random moment of the poll cycle.
        time.sleep(random.random())
        s3.put_object(Bucket="flags", Key="features.yml", Body=doc(state).encode())
        start = time.monotonic()
        while enabled(port) != state:
            time.sleep(0.01)
        times.append(time.monotonic() - start)
    print("upload -> changed answer (poll_interval 1s): "
          f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {rounds} uploads")


run("100ms", 10, not_modified_cost)
run("1s", 10, propagation)
