"""The cost of a checked export: ``export_timeline`` (shape, write, read the text back with the
import reader, compare) against the plain OTIO adapter's ``write_to_string`` of the same cut,
as a ratio of CPU seconds, per format. The read-back is what makes every loss reportable; the
ratio says what it costs.

    python benchmarks/bench_export_readback.py [--clips 2000] [--formats edl,xml,xges]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import opentimelineio as otio  # noqa: E402

from timeline import Document  # noqa: E402
from timeline.interchange import FORMATS, export_timeline  # noqa: E402

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange
RATE = 25


def build(n: int) -> Document:
    doc = Document.new(rate=RATE, width=1920, height=1080)
    for i in range(n):
        ref = otio.schema.ExternalReference(target_url=f"/media/shot_{i % 50}.mov",
                                            available_range=TR(RT(0, RATE), RT(500, RATE)))
        doc.video_tracks[0].append(otio.schema.Clip(name=f"shot {i}", media_reference=ref,
                                                    source_range=TR(RT(i % 100, RATE), RT(25, RATE))))
    return doc


def cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=2000)
    parser.add_argument("--formats", default="edl,xml,xges")
    args = parser.parse_args()
    doc = build(args.clips)
    with tempfile.TemporaryDirectory() as folder:
        for ext in args.formats.split(","):
            adapter = FORMATS[f".{ext}"]
            options = {"rate": RATE} if adapter == "cmx_3600" else {}
            plain = cpu(lambda: otio.adapters.write_to_string(doc.timeline, adapter, **options))
            ours = cpu(lambda: export_timeline(doc, Path(folder) / f"cut.{ext}"))
            print(f"{ext}: {args.clips} clips, checked export {ours:.2f} s CPU, plain write "
                  f"{plain:.2f} s CPU, ratio {ours / plain:.2f}")


if __name__ == "__main__":
    main()
