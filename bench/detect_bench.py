"""How well the first message's language is guessed: the figure that decides how many
people see a language menu before anything else, and how many are answered in a
language they did not write.

On the labelled corpus (tests/i18n/corpus/, eight languages, all enabled), per
language: the share of messages (3 to 20 words) and of openers (1 to 3 words)
answered in the right language, for Baraza's detector and for plain langdetect
(seeded, limited to the six of the eight it has profiles for; it knows no Hausa and
no Kurdish); then the held-out quarter alone, the share of first messages that
would get the language menu, and the time one detection takes.

    make bench
    python bench/detect_bench.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langdetect.detector_factory import DetectorFactory  # noqa: E402
from langdetect.lang_detect_exception import LangDetectException  # noqa: E402

from bot.i18n.detect import PROFILES, LanguageDetector, known_to_langdetect  # noqa: E402
from tests.i18n.corpus import LANGUAGES, Sample, load_corpus  # noqa: E402

TIMING_PASSES = 5


def plain_langdetect() -> tuple[DetectorFactory, list[str]]:
    """langdetect as a project would use it alone: its profiles of our languages, seeded."""
    known = known_to_langdetect(LANGUAGES)
    factory = DetectorFactory()
    factory.load_json_profile([(PROFILES / lang).read_text("utf-8") for lang in known])
    factory.set_seed(0)
    return factory, known


def plain_guess(factory: DetectorFactory, text: str) -> str | None:
    detector = factory.create()
    detector.append(text)
    try:
        return str(detector.detect())
    except LangDetectException:
        return None


def plain(row: list[int], knows: bool) -> str:
    return percent(row[1], row[3]) if knows else "n/a"


def percent(hits: int, total: int) -> str:
    return f"{100 * hits / total:5.1f}%" if total else "    -"


def main() -> None:
    corpus = load_corpus()
    ours = LanguageDetector(LANGUAGES)
    factory, known = plain_langdetect()
    # (language, kind, part) -> [ours right, langdetect right, menu shown, total]
    tally: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for sample in corpus:
        found = ours.detect(sample.text)
        theirs = plain_guess(factory, sample.text)
        for part in ("all", "held out" if sample.held_out else "tuning"):
            row = tally[sample.language, sample.kind, part]
            row[0] += found.confident and found.language == sample.language
            row[1] += theirs == sample.language
            row[2] += not found.confident
            row[3] += 1

    print("Language of the first message, on the corpus (all eight languages enabled)")
    print(
        "  language  messages: Baraza  langdetect   openers: Baraza  langdetect"
        "   held out: messages  openers   menu shown"
    )
    for language in LANGUAGES:
        message, opener = tally[language, "message", "all"], tally[language, "opener", "all"]
        held_m, held_o = (
            tally[language, "message", "held out"],
            tally[language, "opener", "held out"],
        )

        menu = percent(message[2] + opener[2], message[3] + opener[3])
        knows = language in known
        print(
            f"  {language:8}  {percent(message[0], message[3]):>16}  {plain(message, knows):>10}"
            f"   {percent(opener[0], opener[3]):>15}  {plain(opener, knows):>10}"
            f"   {percent(held_m[0], held_m[3]):>18}  {percent(held_o[0], held_o[3]):>7}"
            f"   {menu:>10}"
        )
    totals = [
        sum(tally[lang, kind, "all"][i] for lang in LANGUAGES for kind in ("message", "opener"))
        for i in range(4)
    ]
    print(f"  first messages that would get the language menu: {percent(totals[2], totals[3])}")
    print(
        f"  (messages {sum(tally[lang, 'message', 'all'][3] for lang in LANGUAGES)}, "
        f"openers {sum(tally[lang, 'opener', 'all'][3] for lang in LANGUAGES)}; "
        f"held out {sum(s.held_out for s in corpus)})"
    )

    timings = time_detection(ours, corpus)
    print(
        f"  detection time per message: p50 {timings[0]:.3f} ms, p99 {timings[1]:.3f} ms"
        f" (over {TIMING_PASSES} passes of the corpus)"
    )


def time_detection(detector: LanguageDetector, corpus: list[Sample]) -> tuple[float, float]:
    for sample in corpus:  # warm: profiles and lexicon loaded
        detector.detect(sample.text)
    times = []
    for _ in range(TIMING_PASSES):
        for sample in corpus:
            started = time.perf_counter()
            detector.detect(sample.text)
            times.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(times, n=100)
    return cuts[49], cuts[98]


if __name__ == "__main__":
    main()
