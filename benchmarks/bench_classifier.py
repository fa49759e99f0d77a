"""Benchmark of the free-text classifier on the labelled set.

Reads ``datasets/labels/classifier_labels.csv``, splits it deterministically
(hash of the row) into a ``dev`` half and a ``held_out`` half, and reports
top-1 and top-3 accuracy, ``unknown`` detection, a calibration table with the
expected calibration error, loading time and throughput. The report is
printed and written to ``benchmarks/results/classifier.md``.

    python benchmarks/bench_classifier.py            # report
    python benchmarks/bench_classifier.py --errors   # also list the dev rows it gets wrong
    python benchmarks/bench_classifier.py --fit      # refit the confidence map on dev, then report
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from symbiose.classify import (  # noqa: E402
    LOW_CONFIDENCE,
    UNKNOWN_THRESHOLD,
    VOCABULARY_PATH,
    Classification,
    Classifier,
)
from symbiose.domain import UNKNOWN_RESOURCE  # noqa: E402
from symbiose.taxonomy import Taxonomy, get_taxonomy  # noqa: E402

LABELS = ROOT / "datasets" / "labels" / "classifier_labels.csv"
RESULT = ROOT / "benchmarks" / "results" / "classifier.md"
BINS = 10
# Weight of the labelled dev rows in the confidence fit; the rest goes to the
# synonym hold-out. Animators mostly write like the labelled set; the held-out
# synonyms stand for the wordings the taxonomy has never seen.
LABELLED_SHARE = 0.75


@dataclass(frozen=True)
class Row:
    text: str
    ewc: str | None
    naf: str | None
    expected: str
    origin: str

    @property
    def split(self) -> str:
        """``dev`` or ``held_out``, from a hash of the row (stable across runs and machines)."""
        key = "\x1f".join((self.text, self.ewc or "", self.naf or "")).encode("utf-8")
        return "dev" if hashlib.sha1(key).digest()[0] % 2 == 0 else "held_out"


def load_rows(path: Path = LABELS) -> list[Row]:
    """The labelled rows of the CSV."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            Row(r["text"], r["ewc"] or None, r["naf"] or None, r["expected_code"], r["origin"])
            for r in csv.DictReader(fh)
        ]


def best_guess(c: Classification) -> str:
    """The code the classifier believes most, even when it answered ``unknown``."""
    if c.code != UNKNOWN_RESOURCE:
        return c.code
    return c.alternatives[0][0] if c.alternatives else UNKNOWN_RESOURCE


def top3(c: Classification) -> list[str]:
    """The three best proposals (``unknown`` counts as one when it was the answer)."""
    return [c.code, *(code for code, _ in c.alternatives)][:3]


def accuracy(pairs: list[tuple[Row, Classification]]) -> float:
    return sum(c.code == r.expected for r, c in pairs) / len(pairs) if pairs else float("nan")


def top3_accuracy(pairs: list[tuple[Row, Classification]]) -> float:
    return sum(r.expected in top3(c) for r, c in pairs) / len(pairs) if pairs else float("nan")


def calibration(pairs: list[tuple[Row, Classification]]) -> tuple[list[tuple[str, int, float, float]], float]:
    """Confidence bins of the best guess → (label, rows, mean confidence, accuracy), and the ECE."""
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(BINS)]
    for r, c in pairs:
        guess = best_guess(c)
        if guess == UNKNOWN_RESOURCE:
            continue  # nothing matched: no guess to calibrate
        i = min(BINS - 1, int(c.confidence * BINS))
        bins[i].append((c.confidence, guess == r.expected))
    total = sum(len(b) for b in bins) or 1
    table, ece = [], 0.0
    for i, b in enumerate(bins):
        if not b:
            continue
        conf = sum(p for p, _ in b) / len(b)
        acc = sum(ok for _, ok in b) / len(b)
        ece += len(b) / total * abs(conf - acc)
        table.append((f"{i / BINS:.1f}-{(i + 1) / BINS:.1f}", len(b), conf, acc))
    return table, ece


def _features(ranked: list[tuple[str, float]]) -> tuple[float, float, float]:
    s1 = ranked[0][1]
    s2 = ranked[1][1] if len(ranked) > 1 else 0.0
    return (1.0, s1, s1 - s2)


def synonym_holdout(tax: Taxonomy, folds: int = 5) -> list[tuple[tuple[float, float, float], bool]]:
    """Each taxonomy synonym classified by a classifier built without it (``folds`` folds).

    These texts are phrasings of a code that the index has never seen, the
    situation of an animator's wording missing from the taxonomy: they keep the
    confidence map honest on texts harder than the labelled set.
    """

    def fold(code: str, synonym: str) -> int:
        return hashlib.sha1(f"{code}\x1f{synonym}".encode()).digest()[0] % folds

    out = []
    for k in range(folds):
        kept = {
            code: replace(r, synonyms=tuple(s for s in r.synonyms if fold(code, s) != k))
            for code, r in tax.resources.items()
        }
        clf = Classifier(replace(tax, resources=kept))
        for code, r in tax.resources.items():
            for synonym in r.synonyms:
                if fold(code, synonym) == k:
                    ranked = clf.ranked(synonym)
                    if ranked:
                        out.append((_features(ranked), ranked[0][0] == code))
    return out


def fit_calibration(clf: Classifier, rows: list[Row]) -> tuple[tuple[float, float, float], int, int]:
    """Logistic map (intercept, top score, lead) fitted by maximum likelihood on the
    ``rows`` (dev labels) and the synonym hold-out, the two sources weighing the same."""
    import numpy as np
    from scipy.optimize import minimize

    labelled = []
    for r in rows:
        ranked = clf.ranked(r.text, ewc=r.ewc, naf=r.naf)
        if ranked:
            labelled.append((_features(ranked), ranked[0][0] == r.expected))
    synonyms = synonym_holdout(clf.taxonomy)
    data = labelled + synonyms
    x = np.array([f for f, _ in data])
    y = np.array([1.0 if ok else 0.0 for _, ok in data])
    weight = np.array(
        [LABELLED_SHARE / len(labelled)] * len(labelled) + [(1 - LABELLED_SHARE) / len(synonyms)] * len(synonyms)
    )

    def loss(w: np.ndarray) -> float:
        z = x @ w
        return float(np.sum(weight * (np.logaddexp(0, z) - y * z)) + 1e-4 * np.sum(w[1:] ** 2))

    w = minimize(loss, np.array([-4.0, 7.0, 4.0]), method="BFGS").x
    return (float(w[0]), float(w[1]), float(w[2])), len(labelled), len(synonyms)


def write_calibration(path: Path, params: tuple[float, float, float], n_labelled: int, n_synonyms: int) -> None:
    """Replace the ``calibration:`` block of the vocabulary file."""
    text = path.read_text(encoding="utf-8")
    block = (
        "calibration:\n"
        f"  intercept: {params[0]:.4f}\n"
        f"  top: {params[1]:.4f}\n"
        f"  margin: {params[2]:.4f}\n"
        f"  fitted_on: {n_labelled} dev rows + {n_synonyms} held-out synonyms\n"
    )
    text = re.sub(r"calibration:\n(?:  .*\n?)*", block, text)
    path.write_text(text, encoding="utf-8")


def throughput(rows: list[Row]) -> dict[str, float]:
    """Loading time and classifications per second, new texts and repeated texts."""
    get_taxonomy.cache_clear()
    t0 = time.perf_counter()
    tax = get_taxonomy()
    t1 = time.perf_counter()
    clf = Classifier(tax)
    t2 = time.perf_counter()
    items = [(r.text, r.ewc, r.naf) for r in rows]
    t3 = time.perf_counter()
    clf.classify_many(items)
    t4 = time.perf_counter()
    repeats = 20
    for _ in range(repeats):
        clf.classify_many(items)
    t5 = time.perf_counter()
    return {
        "taxonomy_load_s": t1 - t0,
        "classifier_build_s": t2 - t1,
        "new_per_s": len(items) / (t4 - t3),
        "repeated_per_s": repeats * len(items) / (t5 - t4),
    }


def report(rows: list[Row], clf: Classifier) -> str:
    results = [(r, clf.classify(r.text, ewc=r.ewc, naf=r.naf)) for r in rows]
    dev = [p for p in results if p[0].split == "dev"]
    held = [p for p in results if p[0].split == "held_out"]
    lines = ["# Classifier benchmark", ""]
    lines.append(f"Labelled rows: {len(rows)} ({len(dev)} dev, {len(held)} held-out), `{LABELS.relative_to(ROOT)}`.")
    lines.append(f"Thresholds: unknown below {UNKNOWN_THRESHOLD}, warning below {LOW_CONFIDENCE}.")
    fitted = re.search(r"fitted_on: (.*)", VOCABULARY_PATH.read_text(encoding="utf-8"))
    if fitted:
        lines.append(f"Confidence map fitted on {fitted.group(1)} (never on held-out rows).")
    lines += ["", "## Accuracy", "", "| split | rows | top-1 | top-3 |", "|---|---:|---:|---:|"]
    for name, part in (("dev", dev), ("held_out", held), ("all", results)):
        lines.append(f"| {name} | {len(part)} | {accuracy(part):.3f} | {top3_accuracy(part):.3f} |")

    lines += ["", "## By origin (all rows)", "", "| origin | rows | top-1 |", "|---|---:|---:|"]
    for origin in sorted({r.origin for r in rows}):
        part = [p for p in results if p[0].origin == origin]
        lines.append(f"| {origin} | {len(part)} | {accuracy(part):.3f} |")

    exp_unknown = [p for p in results if p[0].expected == UNKNOWN_RESOURCE]
    pred_unknown = [p for p in results if p[1].code == UNKNOWN_RESOURCE]
    recall = sum(c.code == UNKNOWN_RESOURCE for _, c in exp_unknown) / len(exp_unknown) if exp_unknown else float("nan")
    precision = (
        sum(r.expected == UNKNOWN_RESOURCE for r, _ in pred_unknown) / len(pred_unknown)
        if pred_unknown
        else float("nan")
    )
    known = [p for p in results if p[0].expected != UNKNOWN_RESOURCE]
    false_unknown = sum(c.code == UNKNOWN_RESOURCE for _, c in known) / len(known) if known else float("nan")
    warned = sum(c.code != UNKNOWN_RESOURCE and c.confidence < LOW_CONFIDENCE for _, c in results)
    lines += [
        "",
        "## Unknown detection (all rows)",
        "",
        f"- rows labelled `unknown`: {len(exp_unknown)}; detected: {recall:.3f}",
        f"- rows answered `unknown`: {len(pred_unknown)}; of which truly unknown: {precision:.3f}",
        f"- known rows wrongly sent to `unknown`: {false_unknown:.3f}",
        f"- rows classified with a warning (confidence < {LOW_CONFIDENCE}): {warned}",
    ]

    for name, part in (("held_out", held), ("all", results)):
        table, ece = calibration(part)
        lines += [
            "",
            f"## Calibration ({name}: confidence of the best guess vs its accuracy)",
            "",
            "| confidence | rows | mean confidence | accuracy |",
            "|---|---:|---:|---:|",
        ]
        lines += [f"| {b} | {n} | {conf:.3f} | {acc:.3f} |" for b, n, conf, acc in table]
        lines.append(f"\nExpected calibration error ({name}): {ece:.3f}")

    speed = throughput(rows)
    lines += [
        "",
        "## Speed",
        "",
        f"- taxonomy loading: {speed['taxonomy_load_s']:.3f} s; classifier build: {speed['classifier_build_s']:.3f} s",
        f"- new texts: {speed['new_per_s']:.0f} classifications/s",
        f"- repeated texts (cache): {speed['repeated_per_s']:.0f} classifications/s",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true", help="refit the confidence map on the dev half first")
    parser.add_argument("--errors", action="store_true", help="list the dev rows classified wrongly")
    args = parser.parse_args(argv)
    rows = load_rows()
    if args.fit:
        dev_rows = [r for r in rows if r.split == "dev"]
        params, n_labelled, n_synonyms = fit_calibration(Classifier(), dev_rows)
        write_calibration(VOCABULARY_PATH, params, n_labelled, n_synonyms)
        print(f"calibration fitted on {n_labelled} dev rows and {n_synonyms} held-out synonyms: {params}")
    clf = Classifier()
    text = report(rows, clf)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(text, encoding="utf-8")
    print(text)
    if args.errors:
        print("## Dev rows classified wrongly\n")
        for r in rows:
            if r.split != "dev":
                continue
            c = clf.classify(r.text, ewc=r.ewc, naf=r.naf)
            if c.code != r.expected:
                alts = ", ".join(f"{code} {p:.2f}" for code, p in c.alternatives)
                where = f"{r.text!r} ewc={r.ewc} naf={r.naf}"
                print(f"- {where}: expected {r.expected}, got {c.code} {c.confidence:.2f} [{alts}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
