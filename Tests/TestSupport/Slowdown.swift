#if canImport(Glibc)
import Glibc
#endif

/// How many times slower the suite runs: EVG_TEST_SLOWDOWN, which
/// scripts/sanitizers.sh sets (TSan 5, ASan 2); 1 otherwise.
public let testSlowdown: Int = getenv("EVG_TEST_SLOWDOWN").flatMap { Int(String(cString: $0)) }.map { max($0, 1) } ?? 1

/// Iterations for a race loop: `count` in a plain debug build; under a
/// sanitizer fewer by the slowdown squared (at least 100): each iteration
/// is that much slower, and these loops must not starve the tests running
/// alongside, whose hang guards are wall-clock bounds.
public func raceIterations(_ count: Int) -> Int {
    max(count / (testSlowdown * testSlowdown), 100)
}
