import CloudEvents
import Foundation
import Testing
import TouchlogDomain
import TouchlogStore
import TouchlogTestSupport

/// An event's identity: `source` + `id`.
struct Identity: Hashable, CustomStringConvertible {
    var source: String
    var id: String
    init(_ touchpoint: Touchpoint) {
        source = touchpoint.event.source
        id = touchpoint.event.id
    }
    var description: String { source + " " + id }
}

/// The log as arrays and dictionaries: what it holds and what appending a batch does.
struct LogModel {
    struct Event {
        var touchpoint: Touchpoint
        var position: UInt64
        var version: UInt64
        /// The position of the customer's event before this one, 0 for the first.
        var previousPosition: UInt64
    }

    /// The events in position order: position p is `events[p - 1]`.
    private(set) var events: [Event] = []
    /// Where each identity is.
    private(set) var positions: [Identity: UInt64] = [:]
    /// Each customer's stream: the positions of its events, oldest first.
    private(set) var streams: [String: [UInt64]] = [:]
    /// What the committed batches held, so the test can tell that the run covered every case.
    struct Coverage {
        /// Batches that failed on an expected version (and wrote nothing).
        var conflicts = 0
        /// Requests whose expected version held.
        var versionsHeld = 0
        /// Exact duplicates, and those of them whose original came earlier in the same batch.
        var duplicates = 0
        var inBatchDuplicates = 0
        /// Requests that reused an identity with other content, and those whose original was in the batch.
        var otherContent = 0
        var inBatchOtherContent = 0
    }
    private(set) var coverage = Coverage()

    func version(ofCustomer customer: String) -> UInt64 { UInt64(streams[customer]?.count ?? 0) }

    /// Appends `requests` as one batch, all or nothing: each request's outcome, or the version conflict
    /// that stops the batch (the first request, in order, whose expected version is not its stream's).
    mutating func append(_ requests: [AppendRequest]) -> Result<[AppendOutcome], StoreError> {
        var next = self
        var outcomes: [AppendOutcome] = []
        for request in requests {
            let identity = Identity(request.touchpoint)
            if let existing = next.positions[identity] {
                // Checked before the expected version: a duplicate is acknowledged whatever it expects.
                let inBatch = existing > events.count ? 1 : 0
                if next.events[Int(existing) - 1].touchpoint == request.touchpoint {
                    next.coverage.duplicates += 1
                    next.coverage.inBatchDuplicates += inBatch
                    outcomes.append(.duplicate(position: existing))
                } else {
                    next.coverage.otherContent += 1
                    next.coverage.inBatchOtherContent += inBatch
                    outcomes.append(Self.sameIdentityWithOtherContent(existing: existing))
                }
                continue
            }
            let customer = request.touchpoint.customer
            let version = next.version(ofCustomer: customer)
            if let expected = request.expectedVersion, expected != version {
                coverage.conflicts += 1
                return .failure(.versionConflict(customer: customer, expected: expected, actual: version))
            }
            if request.expectedVersion != nil { next.coverage.versionsHeld += 1 }
            let position = UInt64(next.events.count + 1)
            next.events.append(
                Event(
                    touchpoint: request.touchpoint, position: position, version: version + 1,
                    previousPosition: next.streams[customer]?.last ?? 0))
            next.streams[customer, default: []].append(position)
            next.positions[identity] = position
            outcomes.append(.appended(position: position, version: version + 1))
        }
        self = next
        return .success(outcomes)
    }

    /// An event whose `source` + `id` the log already holds at `existing`, with other content (another
    /// customer, time or data): a reported conflict; nothing is stored (the log's default handling).
    static func sameIdentityWithOtherContent(existing: UInt64) -> AppendOutcome {
        .conflict(position: existing)
    }
}

/// What one batch came to, comparable between the log and the model.
enum Outcomes: Equatable {
    case appended([AppendOutcome])
    case failed(StoreError)
    /// The log threw something else.
    case unexpected(String)

    init(_ result: Result<[AppendOutcome], StoreError>) {
        switch result {
        case .success(let outcomes): self = .appended(outcomes)
        case .failure(let error): self = .failed(error)
        }
    }

    /// The log's result.
    init(_ result: Result<[AppendOutcome], any Error>) {
        switch result {
        case .success(let outcomes): self = .appended(outcomes)
        case .failure(let error as StoreError): self = .failed(error)
        case .failure(let error): self = .unexpected("\(error)")
        }
    }
}

/// The requests of a batch, short, for failure messages: `source id customer[@expected version]` each.
func describe(_ requests: [AppendRequest]) -> String {
    "["
        + requests.map { request in
            let touchpoint = request.touchpoint
            return "\(touchpoint.event.source) \(touchpoint.event.id) \(touchpoint.customer)"
                + (request.expectedVersion.map { "@\($0)" } ?? "")
        }.joined(separator: ", ") + "]"
}
