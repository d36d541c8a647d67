import Foundation
import TouchlogStore

/// Reads the log's records and decodes the fold's events (`FoldEvent.folding`) on a thread of its own,
/// ahead of the fold, so that a rebuild or a long catch-up uses the second core: the fold applies and
/// writes one chunk while the next is read.
///
/// The thread reads blocks of `blockSize` positions, each in a read transaction of its own (a long one
/// would pin the pages the fold's writes free), and keeps at most `depth` blocks waiting: memory is
/// bounded whatever the log's size. It never waits for room while it holds a transaction. A record
/// that does not decode stops the thread; `take` throws its error when it reaches that position, as
/// reading the log in the fold's own transaction would. The log below the head does not change (an
/// erasure changes only sealed content, which the fold does not open), so the events are those the
/// fold's own transaction would read.
final class FoldEventReader {
    /// The next position `take` hands out.
    private(set) var next: UInt64
    /// The last position the thread reads.
    let last: UInt64
    private let shared: Shared
    /// The block `take` is handing out, its events from `offset` on not yet taken.
    private var current: Block?
    private var offset = 0

    /// Events of the positions after the block before it, through `through`.
    struct Block {
        var events: [FoldEvent]
        var through: UInt64
    }

    /// Starts the thread reading `first...last` of the log of `store`.
    init(store: Store, from first: UInt64, through last: UInt64, blockSize: UInt64 = 8_192, depth: Int = 4) {
        precondition(first >= 1 && blockSize >= 1 && depth >= 1)
        next = first
        self.last = last
        let shared = Shared(depth: depth)
        self.shared = shared
        let thread = Thread {
            Self.read(store.log, store, first, last, blockSize: blockSize, into: shared)
            shared.finish()
        }
        thread.name = "touchlog.fold.reader"
        thread.start()
    }

    /// Stops the thread and waits for it (at most the read of one block).
    deinit { shared.stop() }

    /// Whether `take(through:)` can serve `first...end`.
    func covers(_ first: UInt64, _ end: UInt64) -> Bool { first == next && end <= last }

    /// Appends the catalog events of positions `next...end` to `events`, in position order, waiting for
    /// the thread where it has not read them yet.
    /// - Throws: what reading the log threw at a position up to `end` (`StoreError.corruptRecord`, ...).
    func take(through end: UInt64, into events: inout [FoldEvent]) throws {
        precondition(end <= last, "reading beyond the range the reader was started for")
        while next <= end {
            if current == nil {
                current = try shared.nextBlock()
                offset = 0
            }
            let block = current!
            while offset < block.events.count, block.events[offset].position <= end {
                events.append(block.events[offset])
                offset += 1
            }
            if block.through <= end {
                next = block.through + 1
                current = nil
            } else {
                next = end + 1
            }
        }
    }

    /// The thread's work: each block read in its own transaction, then queued (waiting for room
    /// outside the transaction).
    private static func read(
        _ log: EventLog, _ store: Store, _ first: UInt64, _ last: UInt64, blockSize: UInt64,
        into shared: Shared
    ) {
        var start = first
        while start <= last, !shared.isStopped {
            let end = last - start < blockSize ? last : start + blockSize - 1
            var events: [FoldEvent] = []
            events.reserveCapacity(Int(end - start + 1))
            // The last position whose record was decoded: what the events cover when a read fails.
            var reached = start - 1
            do {
                try store.withReadTransaction { txn in
                    try log.forEachRecord(from: start, in: txn, opening: false) { record in
                        if record.position > end { return false }
                        if let event = FoldEvent.folding(record) { events.append(event) }
                        reached = record.position
                        return record.position < end
                    }
                }
            } catch {
                if reached >= start { shared.put(Block(events: events, through: reached)) }
                shared.fail(error)
                return
            }
            shared.put(Block(events: events, through: end))
            start = end + 1
        }
    }

    /// What the thread and the fold share, only under `condition`.
    private final class Shared: @unchecked Sendable {
        // @unchecked Sendable: every stored property is read and written with `condition` locked.
        private let condition = NSCondition()
        private let depth: Int
        private var blocks: [Block] = []
        private var failure: (any Error)?
        private var stopped = false
        private var finished = false

        init(depth: Int) { self.depth = depth }

        var isStopped: Bool {
            condition.lock()
            defer { condition.unlock() }
            return stopped
        }

        /// Queues a block, waiting while `depth` are queued (unless stopped).
        func put(_ block: Block) {
            condition.lock()
            defer { condition.unlock() }
            while blocks.count >= depth && !stopped { condition.wait() }
            if stopped { return }
            blocks.append(block)
            condition.broadcast()
        }

        func fail(_ error: any Error) {
            condition.lock()
            defer { condition.unlock() }
            failure = error
            condition.broadcast()
        }

        func finish() {
            condition.lock()
            defer { condition.unlock() }
            finished = true
            condition.broadcast()
        }

        /// The next queued block, waiting for one; throws the thread's failure once the blocks before it
        /// are taken.
        func nextBlock() throws -> Block {
            condition.lock()
            defer { condition.unlock() }
            while blocks.isEmpty {
                if let failure { throw failure }
                precondition(!finished, "the fold's reader ended before the positions asked for")
                condition.wait()
            }
            let block = blocks.removeFirst()
            condition.broadcast()
            return block
        }

        /// Makes the thread stop, and waits until it has.
        func stop() {
            condition.lock()
            defer { condition.unlock() }
            stopped = true
            condition.broadcast()
            while !finished { condition.wait() }
        }
    }
}
