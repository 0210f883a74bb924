#!/usr/bin/env python3
"""Writes DIR/features.yml with N flags (half boolean, half variant) over N/10 segments.

Usage: gen_flags.py DIR N
"""
import os
import sys

out_dir, n = sys.argv[1], int(sys.argv[2])
segments = max(1, n // 10)
lines = ['version: "1.4"', "flags:"]
for i in range(n):
    seg = i % segments
    if i % 2 == 0:
        lines += [
            f"  - key: flag-{i}",
            f"    name: Flag {i}",
            "    type: BOOLEAN_FLAG_TYPE",
            "    enabled: true",
            "    rollouts:",
            f"      - segment: {{key: seg-{seg}, value: false}}",
            "      - threshold: {percentage: 50, value: true}",
        ]
    else:
        lines += [
            f"  - key: flag-{i}",
            f"    name: Flag {i}",
            "    enabled: true",
            "    variants:",
            f"      - {{key: a, name: A, attachment: {{n: {i}}}}}",
            "      - {key: b, name: B}",
            "    rules:",
            f"      - segment: seg-{seg}",
            "        distributions: [{variant: a, rollout: 50}, {variant: b, rollout: 50}]",
        ]
lines.append("segments:")
for s in range(segments):
    lines += [
        f"  - key: seg-{s}",
        f"    name: Segment {s}",
        "    constraints:",
        f"      - {{type: STRING_COMPARISON_TYPE, property: tier, operator: eq, value: t{s}}}",
        '      - {type: NUMBER_COMPARISON_TYPE, property: age, operator: gte, value: "18"}',
    ]
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "features.yml"), "w") as f:
    f.write("\n".join(lines) + "\n")
