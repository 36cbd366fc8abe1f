"""Print the reliability battery's summary from pytest's JUnit XML and the fault records
the tests appended (one JSON object a line). Exit status 1 when anything failed or was lost."""

import json
import sys
import xml.etree.ElementTree as ET  # noqa: S405 - our own pytest output


def main(junit_path, report_path):
    suite = ET.parse(junit_path).getroot()  # noqa: S314
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    tests, failures = int(suite.get("tests")), int(suite.get("failures")) + int(suite.get("errors"))
    skipped = int(suite.get("skipped"))
    records = []
    try:
        with open(report_path) as fh:
            records = [json.loads(line) for line in fh if line.strip()]
    except FileNotFoundError:
        pass
    faults = [f for r in records for f in r["faults"]]
    lost = sum(r["lost"] for r in records)
    checked = sum(r["checked"] for r in records)
    failed_names = [
        f"{case.get('classname')}::{case.get('name')}"
        for case in suite.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    ]
    print()
    print("=" * 78)
    print("Tandem reliability battery")
    print("=" * 78)
    for r in records:
        print(f"- {r['test']}: checked {r['checked']}, lost {r['lost']}")
        if r.get("notes"):
            print(f"    {r['notes']}")
    print("- malformed mail: covered by tests/channel/test_inbound_malformed.py (the normal suite)")
    print("-" * 78)
    print(
        f"tests run:        {tests - skipped} ({tests - skipped - failures} passed, {failures} failed, "
        f"{skipped} skipped)"
    )
    print(f"faults injected:  {len(faults)}")
    for f in sorted(set(faults)):
        print(f"                  · {f} (×{faults.count(f)})")
    print(f"records checked:  {checked}")
    print(f"records lost:     {lost}")
    for name in failed_names:
        print(f"FAILED: {name}")
    print("=" * 78)
    return 1 if failures or lost else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
