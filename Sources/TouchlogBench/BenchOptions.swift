import TouchlogDomain
import TouchlogIngest
import TouchlogStore

#if canImport(Glibc)
    import Glibc
#endif

/// One measured part of `touchlog bench`.
public enum BenchPhase: String, Sendable, CaseIterable, Codable {
    /// Parsed events appended to `EventLog` in batches, against raw `MDB_APPEND` puts of the same record bytes.
    case append
    /// CloudEvents JSON Lines from a file, end to end through `Ingestor`, against the Python peer.
    case ingest
    /// One customer's history read back (latency percentiles), against raw reads of the same records.
    case replay
    /// Every projection rebuilt from position 1 (needs the projections module; reports "not available" until wired).
    case rebuild
    /// The whole store audited (chain, indexes, projections against a fresh fold), against a raw cursor scan.
    case audit
    /// One event per durable commit, against one raw put per commit.
    case commit
    /// `ingest`, `rebuild`, `rebuild --dry-run` and `audit` run as child processes of the `touchlog` binary,
    /// their peak memory against the bound of DESIGN.md section 6 (not run unless asked for).
    case memory
    /// `touchlog serve` as a child process under concurrent HTTP clients of this process, one event per
    /// request and batches of 100, against one event per durable commit and UmaDB's server (not run
    /// unless asked for).
    case serve

    /// What `touchlog bench` runs when no phase is named: every phase but memory, which runs the
    /// commands as child processes and is asked for by name.
    public static let defaultPhases = allCases.filter { $0 != .memory && $0 != .serve }

    /// Parses a comma-separated list such as `append,replay`; nil names the first unknown phase.
    public static func parseList(_ text: String) -> Result<[BenchPhase], BenchOptionError> {
        var phases: [BenchPhase] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingSpaces()
            guard let phase = BenchPhase(rawValue: name) else {
                let known = BenchPhase.allCases.map(\.rawValue).joined(separator: ", ")
                return .failure(BenchOptionError("unknown phase '\(name)': choose from \(known)"))
            }
            if !phases.contains(phase) { phases.append(phase) }
        }
        if phases.isEmpty { return .failure(BenchOptionError("name at least one phase")) }
        return .success(phases)
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// A bench setting that cannot run, in words for the user.
public struct BenchOptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Folds every projection of `store` from position 1 and returns how many events it read.
/// The projections module installs one; until then the rebuild phase reports "not available".
public typealias RebuildHook = @Sendable (Store) throws -> Int

/// Audits all of `store` (as `touchlog audit` does) and returns how many events it checked; throws when
/// the audit finds a problem. The command line installs one; without it the audit phase reports "not available".
public typealias AuditHook = @Sendable (Store) throws -> Int

/// What `touchlog bench` runs.
public struct BenchOptions: Sendable {
    /// Events in the workload (append, ingest, and the log that replay and rebuild read).
    public var events = 1_000_000
    /// Customers the generator spreads the events over (its realistic skew: a few are very busy).
    public var customers = 10_000
    /// Events per atomic commit, for the engine and the raw baseline alike.
    public var batchSize = 10_000
    /// `MDB_NOSYNC` for the engine and the baselines; off (durable commits) by default.
    public var noSync = false
    /// The format of the engine's stores (3, the default for new stores; 2 to compare with it).
    public var storeFormat = Store.formatVersion
    /// The phases, run in the order of `BenchPhase.allCases`.
    public var phases: [BenchPhase] = BenchPhase.defaultPhases
    /// The generator's seed: the same seed gives the same events.
    public var seed: UInt64 = 42
    /// Customers whose history the replay phase reads.
    public var replaySamples = 1_000
    /// Events of the commit phase (one durable commit each).
    public var commitEvents = 1_000
    /// Events the serve phase sends in each run.
    public var serveEvents = 20_000
    /// Concurrent clients of the serve phase (and threads of UmaDB's client).
    public var serveClients = 64
    /// Runs of each serve measurement; the median is reported.
    public var serveRuns = 3
    /// The Python peer's rate measured in this sitting; when nil, the peer script is run if it can be.
    public var peerRate: Double?
    /// The Python interpreter with `eventsourcing` installed; nil tries the usual places.
    public var peerPython: String?
    /// `peer_eventsourcing.py`; nil tries `$TOUCHLOG_PEER_SCRIPT`, then the repository's own
    /// (`PeerBaseline.candidateScripts`).
    public var peerScript: String?
    /// Where temporary stores go (a fresh directory inside it, removed afterwards); nil: the system's.
    public var workDirectory: String?
    /// Installed by the projections module; nil makes the rebuild phase report "not available".
    public var rebuild: RebuildHook?
    /// Installed by the command line; nil makes the audit phase report "not available".
    public var audit: AuditHook?
    /// The `touchlog` binary the memory phase runs; nil: the running executable (`/proc/self/exe`).
    public var touchlogExecutable: String?

    public init() {}

    /// Checks the settings before anything runs.
    /// - Throws: `BenchOptionError` naming the first bad setting.
    public func validate() throws(BenchOptionError) {
        guard events >= 1 else { throw BenchOptionError("--events must be at least 1") }
        guard (1...99_999_999).contains(customers) else {
            throw BenchOptionError("--customers must be from 1 to 99999999")
        }
        guard batchSize >= 1 else { throw BenchOptionError("--batch-size must be at least 1") }
        guard replaySamples >= 1 else { throw BenchOptionError("--replay-samples must be at least 1") }
        guard commitEvents >= 1 else { throw BenchOptionError("--commit-events must be at least 1") }
        guard serveEvents >= 1 else { throw BenchOptionError("--serve-events must be at least 1") }
        guard (1...1_024).contains(serveClients) else {
            throw BenchOptionError("--serve-clients must be from 1 to 1024")
        }
        guard serveRuns >= 1 else { throw BenchOptionError("--serve-runs must be at least 1") }
        if let peerRate, !(peerRate > 0 && peerRate.isFinite) {
            throw BenchOptionError("--peer-rate must be a positive number of events per second")
        }
        guard !phases.isEmpty else { throw BenchOptionError("name at least one phase") }
        if phases.contains(.memory) || phases.contains(.serve), let executable = touchlogExecutable,
            access(executable, X_OK) != 0
        {
            throw BenchOptionError(
                "--touchlog '\(executable)' cannot be run: \(String(cString: strerror(errno)))")
        }
    }
}
