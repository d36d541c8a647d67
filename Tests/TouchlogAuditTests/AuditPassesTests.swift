import LMDB
import Testing

@testable import TouchlogStore

/// The log's verification split into passes, each over one slice of the identity hashes and of the
/// streams (what bounds the memory of a large store's audit), finds what one pass finds.
@Suite struct AuditPassesTests {
    let store: TamperableStore
    init() throws { store = try TamperableStore() }

    /// Small enough that the 12 events of 3 customers take four passes.
    let small = AuditPassLimits(identities: 3, streams: 1)

    /// The problems of a verification, in a form that ignores their order at one position.
    func found(_ verification: LogVerification) -> Set<String> {
        Set(verification.problems.map { "\($0.position ?? 0) \($0.kind.rawValue): \($0.message)" })
    }

    @Test func aCleanStoreIsCleanInManyPasses() throws {
        let verification = try store.open().verify(limits: small)
        #expect(verification.problems.isEmpty)
        #expect(verification.eventsChecked == 12)
    }

    enum Damage: CaseIterable {
        case streamHeadMovedBack, streamHeadRemoved, idEntryAtTheWrongEvent, versionSkipped
    }

    @Test(arguments: Damage.allCases)
    func damageIsFoundTheSameInManyPassesAsInOne(damage: Damage) throws {
        switch damage {
        case .streamHeadMovedBack:
            try store.tamper { txn, _, streams, _ in
                var head = [UInt8](repeating: 0, count: 16)
                head[7] = 9
                head[15] = 3
                try txn.put(head, forKey: "c0", in: streams)
            }
        case .streamHeadRemoved:
            try store.tamper { txn, _, streams, _ in
                let removed = try txn.delete(forKey: "c1", in: streams)
                #expect(removed)
            }
        case .idEntryAtTheWrongEvent:
            let hash = try store.open().identityHasher.hash(source: "urn:test", id: "e4")
            try store.tamper { txn, _, _, idRuns in
                try txn.withUnsafeEntries(in: idRuns) { runs in
                    try IdentityIndex(runs).add([IdentityEntry(hash: hash, position: 10)], in: idRuns, txn)
                }
            }
        case .versionSkipped:
            try store.rewriteRecomputingChain(from: 7) { stored in
                if stored.position == 7 { stored.version += 1 }
            }
        }
        let log = try store.open()
        let one = try log.verify()
        let many = try log.verify(limits: small)
        #expect(!one.problems.isEmpty)
        #expect(found(many) == found(one), "one pass: \(one.problems)")
        #expect(many.eventsChecked == one.eventsChecked)
    }

    @Test func theSlicesOfTheHashesAreContiguousAndCoverEveryHash() throws {
        let split = AuditSplit(passes: 5)
        #expect(split.lowestHash(of: 0) == 0)
        #expect(split.lowestHash(of: 5) == nil)
        for pass in 1..<5 {
            let lowest = try #require(split.lowestHash(of: pass))
            #expect(split.pass(of: lowest) == pass)
            #expect(split.pass(of: lowest - 1) == pass - 1)
        }
        #expect(split.pass(of: .max) == 4)
    }
}
