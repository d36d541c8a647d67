/// A scheduled step of an open ticket: at `time`, the ticket in `slot` takes its next step.
struct ScheduledStep: Sendable {
    var time: Int64
    /// Scheduling order, to break ties in time deterministically (first scheduled, first run).
    var order: UInt64
    var slot: Int32

    @inline(__always)
    func precedes(_ other: ScheduledStep) -> Bool {
        time < other.time || (time == other.time && order < other.order)
    }
}

/// A binary min-heap of ticket steps ordered by time: the simulation's future.
///
/// Holds one entry per open ticket, so memory follows open tickets, not events.
struct StepQueue: Sendable {
    private var heap: [ScheduledStep] = []
    private var scheduled: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    /// The earliest step, without removing it.
    var first: ScheduledStep? { heap.first }

    mutating func schedule(slot: Int32, at time: Int64) {
        scheduled &+= 1
        heap.append(ScheduledStep(time: time, order: scheduled, slot: slot))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) >> 1
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest step.
    mutating func removeFirst() -> ScheduledStep {
        let first = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                var smallest = left
                let right = left + 1
                if right < count && heap[right].precedes(heap[left]) { smallest = right }
                guard heap[smallest].precedes(heap[parent]) else { break }
                heap.swapAt(smallest, parent)
                parent = smallest
            }
        }
        return first
    }
}
