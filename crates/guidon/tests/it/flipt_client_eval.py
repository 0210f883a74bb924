"""Evaluates cases with Flipt's own client-side engine (`flipt-client` from PyPI).

Usage: flipt_client_eval.py URL MODE < cases.json > results.json
MODE is polling or streaming. Each case: {"namespace", "flag", "type", "entity", "context"}.
"""
import json
import sys

from flipt_client import FliptClient
from flipt_client.models import ClientOptions, FetchMode

url, mode = sys.argv[1], sys.argv[2]
cases = json.load(sys.stdin)
clients = {}
out = []
for case in cases:
    ns = case["namespace"]
    if ns not in clients:
        clients[ns] = FliptClient(opts=ClientOptions(url=url, namespace=ns, fetch_mode=FetchMode(mode)))
    client = clients[ns]
    if case["type"] == "boolean":
        r = client.evaluate_boolean(flag_key=case["flag"], entity_id=case["entity"], context=case["context"])
        out.append({"enabled": r.enabled, "reason": r.reason})
    else:
        r = client.evaluate_variant(flag_key=case["flag"], entity_id=case["entity"], context=case["context"])
        out.append({"match": r.match, "variantKey": r.variant_key, "reason": r.reason})
for c in clients.values():
    c.close()
json.dump(out, sys.stdout)
