"""nomenklatura's logic-v2 on the same inputs as Tandem's bench_match, for bench/match/run.sh.

Commands (each writes one JSON document to stdout):
  pairs FILE.csv                 labelled pairs: TP/FP/TN/FN, F1 at 0.7, µs a pair
  perturb DIR                    perturbed names against their source entities (pairwise)
  negatives DIR                  rescoring Tandem's candidates of each negative query

Usage of the library follows the screening spec (section 4.6): two followthemoney entities of
one schema with their own ids, compared with LogicV2.compare(query, result, config).
"""

import csv
import json
import sys
import time

from followthemoney import model
from nomenklatura.matching import LogicV2

try:  # followthemoney 4
    from followthemoney import ValueEntity as _Entity
except ImportError:  # pragma: no cover - older releases
    from followthemoney.proxy import EntityProxy as _Entity

THRESHOLD = 0.7
CONFIG = LogicV2.default_config()


def make(entity_id, schema, properties):
    proxy = _Entity(model.get(schema), {"id": entity_id, "schema": schema, "properties": {}})
    for prop, values in properties.items():
        if prop not in proxy.schema.properties:
            continue
        for value in values if isinstance(values, list) else [values]:
            proxy.add(prop, value, cleaned=False, quiet=True)
    return proxy


def score(query, candidate):
    return LogicV2.compare(query, candidate, CONFIG).score


def warm_up():
    a = make("warm-a", "Person", {"name": ["Ermias Ghermay"]})
    b = make("warm-b", "Person", {"name": ["GHERMAY, Ermias"]})
    for _ in range(3):
        score(a, b)


def pairs(path):
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    entities = [
        (make("q%d" % i, r["schema"], {"name": [r["name1"]]}), make("c%d" % i, r["schema"], {"name": [r["name2"]]}))
        for i, r in enumerate(rows)
    ]
    warm_up()
    tp = fp = tn = fn = 0
    scores = []
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    for (q, c), row in zip(entities, rows):
        s = score(q, c)
        scores.append(s)
        predicted, actual = s >= THRESHOLD, row["is_match"].strip().lower() == "true"
        tp += predicted and actual
        fp += predicted and not actual
        tn += (not predicted) and (not actual)
        fn += (not predicted) and actual
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started_wall
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tp": tp, "fp": fp, "tn": tn, "fn": fn,
        "precision": precision, "recall": recall, "f1": f1,
        "us_per_pair": cpu * 1e6 / len(rows), "us_per_pair_wall": wall * 1e6 / len(rows),
        "scores": scores,
    }


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def perturb(directory):
    sources = {e["id"]: make(e["id"], e["schema"], e["properties"]) for e in read_jsonl(directory + "/perturbation_sources.jsonl")}
    warm_up()
    by_class = {}
    for i, p in enumerate(read_jsonl(directory + "/perturbations.jsonl")):
        source = sources.get(p["entity_id"])
        if source is None:
            continue
        query = make("perturbed-%d" % i, p["schema"], {"name": [p["perturbed"]]})
        entry = by_class.setdefault(p["class"], {"n": 0, "found": 0})
        entry["n"] += 1
        entry["found"] += score(query, source) >= THRESHOLD
    for entry in by_class.values():
        entry["recall"] = entry["found"] / entry["n"] if entry["n"] else 0.0
    return {"pairwise": by_class}


def negatives(directory):
    entities = {e["id"]: e for e in read_jsonl(directory + "/list_entities.jsonl")}
    proxies = {}
    warm_up()
    rows = alerted = 0
    by_group = {}
    started = time.process_time()
    scored = 0
    for i, line in enumerate(read_jsonl(directory + "/negative_candidates.jsonl")):
        q = line["query"]
        query = make("neg-query-%d" % i, q["schema"], q["properties"])
        hit = False
        for cid in line["candidates"]:
            if cid not in proxies:
                e = entities[cid]
                proxies[cid] = make(e["id"], e["schema"], e["properties"])
            scored += 1
            if score(query, proxies[cid]) >= THRESHOLD:
                hit = True
                break
        rows += 1
        alerted += hit
        g = by_group.setdefault(line["group"], {"rows": 0, "alerted": 0})
        g["rows"] += 1
        g["alerted"] += hit
    return {
        "rows": rows, "alerted": alerted, "rate": alerted / rows if rows else 0.0,
        "per_1000": 1000.0 * alerted / rows if rows else 0.0, "by_group": by_group,
        "pairs_scored": scored, "us_per_pair": (time.process_time() - started) * 1e6 / max(scored, 1),
    }


def main():
    command, target = sys.argv[1], sys.argv[2]
    result = {"pairs": pairs, "perturb": perturb, "negatives": negatives}[command](target)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
