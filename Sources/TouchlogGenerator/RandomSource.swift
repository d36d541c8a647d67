/// SplitMix64: expands a 64-bit seed into well-mixed state words (Steele, Lea, Flood 2014).
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The SplitMix64 finaliser: a bijective scramble of one word.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman and Vigna): the generator's only source of randomness.
///
/// Deliberately not `SystemRandomNumberGenerator` and not `RandomNumberGenerator`'s generic
/// helpers, whose algorithms the standard library may change: output must stay byte-identical.
/// Everything drawn on the hot path uses integer and basic IEEE arithmetic only (no libm), so a
/// seed gives the same events wherever IEEE 754 doubles behave as specified.
struct RandomSource {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    init(seed: UInt64) {
        var expander = SplitMix64(state: seed)
        s0 = expander.next()
        s1 = expander.next()
        s2 = expander.next()
        s3 = expander.next()
        // SplitMix64 never yields four zero words in a row, which would be xoshiro's fixed point.
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate(s3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (Lemire's multiply-high; the bias is below 2^-40 here).
    @inline(__always)
    mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A uniform double in `0..<1` with 53 random bits.
    @inline(__always)
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// True with probability `probability`.
    @inline(__always)
    mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }

    @inline(__always)
    private func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value << count) | (value >> (64 &- count))
    }
}

/// A weighted choice among a few outcomes, by linear scan over integer cumulative weights.
struct WeightedChoice: Sendable {
    private let cumulative: [Int]
    private let total: Int

    init(_ weights: [Int]) {
        precondition(!weights.isEmpty && weights.allSatisfy { $0 >= 0 })
        var running = 0
        var cumulative: [Int] = []
        cumulative.reserveCapacity(weights.count)
        for weight in weights {
            running += weight
            cumulative.append(running)
        }
        precondition(running > 0)
        self.cumulative = cumulative
        self.total = running
    }

    /// An index into the weights, drawn with probability weight / total.
    @inline(__always)
    func pick(_ random: inout RandomSource) -> Int {
        let draw = random.below(total)
        var index = 0
        while cumulative[index] <= draw { index += 1 }
        return index
    }
}

/// A weighted choice among many outcomes (customers, representatives) in constant time.
///
/// Vose's alias method: every index keeps the probability of being chosen directly and the
/// index it defers to otherwise, so a pick costs two draws and at most two table reads whatever
/// the population, instead of a binary search that misses the cache with a million customers.
/// The weights are computed once; picking uses only a multiplication and comparisons.
struct PopularityTable: Sendable {
    private let probability: [Double]
    private let alias: [Int32]

    /// Zipf-Mandelbrot popularity: the item of rank r (1-based) weighs (r + offset)^-exponent.
    /// Ranks are assigned to items by a seeded shuffle, so item 1 is not always the busiest.
    init(count: Int, exponent: Double, offset: Double, random: inout RandomSource) {
        precondition(count >= 1 && count <= Int(Int32.max))
        var ranks = Array(0..<count)
        if count > 1 {
            for index in stride(from: count - 1, to: 0, by: -1) {
                ranks.swapAt(index, random.below(index + 1))
            }
        }
        var weights = [Double](repeating: 0, count: count)
        var total = 0.0
        for item in 0..<count {
            weights[item] = Self.power(Double(ranks[item] + 1) + offset, -exponent)
            total += weights[item]
        }
        self.init(weights: weights.map { $0 * Double(count) / total })
    }

    /// Builds the table from weights scaled so that they average 1.
    private init(weights scaled: [Double]) {
        let count = scaled.count
        var probability = scaled
        var alias = [Int32](repeating: 0, count: count)
        var small: [Int] = []
        var large: [Int] = []
        for index in 0..<count {
            if scaled[index] < 1 { small.append(index) } else { large.append(index) }
        }
        while !small.isEmpty && !large.isEmpty {
            let less = small.removeLast()
            let more = large[large.count - 1]
            alias[less] = Int32(more)
            probability[more] = (probability[more] + probability[less]) - 1
            if probability[more] < 1 {
                large.removeLast()
                small.append(more)
            }
        }
        // What remains is 1 up to rounding: always chosen directly.
        for index in small {
            probability[index] = 1
            alias[index] = Int32(index)
        }
        for index in large {
            probability[index] = 1
            alias[index] = Int32(index)
        }
        self.probability = probability
        self.alias = alias
    }

    /// An index drawn with probability proportional to its weight.
    @inline(__always)
    func pick(_ random: inout RandomSource) -> Int {
        let index = random.below(probability.count)
        return random.unit() < probability[index] ? index : Int(alias[index])
    }

    /// x^y for x >= 1 without libm: exp(y * ln x) from series that converge fast here.
    ///
    /// Only used to build the table. Written out so the module needs neither Foundation nor
    /// Glibc for mathematics, and so the table is identical on every platform.
    static func power(_ base: Double, _ exponent: Double) -> Double {
        precondition(base >= 1)
        return exponential(exponent * logarithm(base))
    }

    /// ln x for x >= 1: halve into [1, 2) counting powers of two, then the atanh series.
    static func logarithm(_ value: Double) -> Double {
        var mantissa = value
        var twos = 0.0
        while mantissa >= 2 {
            mantissa /= 2
            twos += 1
        }
        let z = (mantissa - 1) / (mantissa + 1)
        let zz = z * z
        var term = z
        var sum = 0.0
        var denominator = 1.0
        for _ in 0..<40 {
            sum += term / denominator
            term *= zz
            denominator += 2
        }
        return 2 * sum + twos * 0.693_147_180_559_945_309_4
    }

    /// e^x for x <= 0: the Taylor series on x / 2^k, squared k times.
    static func exponential(_ value: Double) -> Double {
        var reduced = value
        var squarings = 0
        while reduced < -0.5 {
            reduced /= 2
            squarings += 1
        }
        var term = 1.0
        var sum = 1.0
        for index in 1..<30 {
            term *= reduced / Double(index)
            sum += term
        }
        for _ in 0..<squarings { sum *= sum }
        return sum
    }
}
