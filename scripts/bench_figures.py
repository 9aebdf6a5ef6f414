"""One figure of scripts/bench as a JSON line: the median of the samples with their min-max."""
import json


def fig(name, values, unit="ms"):
    v = sorted(values)
    print(json.dumps({"name": name, "unit": unit, "samples": len(v), "median": v[len(v) // 2], "min": v[0], "max": v[-1]}))
