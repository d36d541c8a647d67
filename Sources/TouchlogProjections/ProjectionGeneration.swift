import LMDB
import TouchlogDomain
import TouchlogStore

/// One generation of the projections: a set of databases (a slot), the log position it reflects and
/// the rules it was folded with. The `projection.meta` database names the active one.
public struct ProjectionGeneration: Sendable, Equatable {
    /// Where a generation is in its life.
    public enum State: UInt8, Sendable {
        /// Being built by `rebuild`; readers do not use it.
        case building = 0
        /// The generation readers use; maintained by catch-up.
        case active = 1
        /// Replaced by a newer generation; its data is being (or has been) dropped.
        case retired = 2
    }

    /// 0 or 1: which set of databases holds it (`projection.a.*` or `projection.b.*`).
    public var slot: Int
    /// 1, 2, 3, ...: each rebuild makes a new generation.
    public var number: UInt64
    public var state: State
    /// The last log position folded into it (0 = none).
    public var position: UInt64
    public var rulesVersion: String
    /// SHA-256 of the canonical rules text.
    public var rulesHash: [UInt8]
    /// The process building it (while `building`), so that a crashed rebuild can be resumed and a
    /// running one is not disturbed.
    public var builder: Int32
    /// The versions of the projection code it was built with (`ProjectionRegistry.code`); empty for a
    /// generation of a version that did not record them.
    public var code: String

    /// Whether this code can use it: it was built by the same versions of every projection.
    public var isCurrent: Bool { code == ProjectionRegistry.code }

    public var slotName: String { ProjectionGeneration.slotNames[slot] }
    static var slotNames: [String] { Store.projectionSlotNames }

    public var rulesHashHex: String { hex(rulesHash) }

    /// u8 format (2), u8 state, u64 number, u64 position, 32 bytes rules hash, LEB128 builder pid, the
    /// rules version and the code versions (each a LEB128 length and UTF-8). Format 1 had no code versions.
    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 128)
        w.writeByte(2)
        w.writeByte(state.rawValue)
        w.writeUInt64(number)
        w.writeUInt64(position)
        w.bytes.append(contentsOf: rulesHash)
        w.writeVarint(UInt64(UInt32(bitPattern: builder)))
        w.writeString(rulesVersion)
        w.writeString(code)
        return w.bytes
    }

    init(
        slot: Int, number: UInt64, state: State, position: UInt64, rulesVersion: String, rulesHash: [UInt8],
        builder: Int32, code: String = ProjectionRegistry.code
    ) {
        self.code = code
        self.slot = slot
        self.number = number
        self.state = state
        self.position = position
        self.rulesVersion = rulesVersion
        self.rulesHash = rulesHash
        self.builder = builder
    }

    init?(slot: Int, decoding bytes: UnsafeRawBufferPointer) {
        var r = ByteReader(bytes)
        guard let format = r.readByte(), format == 1 || format == 2,
            let state = r.readByte().flatMap(State.init(rawValue:)),
            let number = r.readUInt64(),
            let position = r.readUInt64(), bytes.count >= r.offset + 32
        else { return nil }
        let hash = Array(bytes[r.offset..<r.offset + 32])
        r.offset += 32
        guard let builder = r.readVarint(), builder <= UInt64(UInt32.max), let version = r.readString(),
            let code = format == 1 ? "" : r.readString(), r.isAtEnd
        else {
            return nil
        }
        self.init(
            slot: slot, number: number, state: state, position: position, rulesVersion: version,
            rulesHash: hash, builder: Int32(bitPattern: UInt32(builder)), code: code)
    }
}

/// Why a projection operation failed.
public enum ProjectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stored projection record does not decode.
    case corruptRecord(database: String, key: String)
    /// The rules stored with a generation do not parse or do not match their hash.
    case corruptRules(generation: UInt64, reason: String)
    /// Another process is building a generation.
    case rebuildInProgress(pid: Int32)
    /// The generation being built was taken over or discarded by another process.
    case rebuildSuperseded(generation: UInt64)
    /// Concurrent writers kept the operation from finishing; the reason says what to do.
    case busy(String)
    /// A store opened read-only has no projections yet (it was never caught up by a writer).
    case missing(path: String)
    /// The active generation was built by other versions of the projection code; a writing command
    /// rebuilds it, a reading one cannot.
    case outdated(path: String, code: String)

    public var description: String {
        switch self {
        case .missing(let path):
            return
                "the store at '\(path)' has no projections yet and is open read-only: run a writing command (such as 'touchlog rebuild') on it first"
        case .corruptRecord(let database, let key):
            return "the projection record '\(key)' in '\(database)' does not decode: run 'touchlog rebuild'"
        case .corruptRules(let generation, let reason):
            return
                "the rules of projection generation \(generation) are damaged (\(reason)): run 'touchlog rebuild --rules FILE'"
        case .rebuildInProgress(let pid):
            return "another rebuild (process \(pid)) is building the projections: wait for it to finish"
        case .rebuildSuperseded(let generation):
            return "generation \(generation) was taken over by another rebuild; this one stopped"
        case .busy(let reason):
            return reason
        case .outdated(let path, let code):
            return
                "the projections of the store at '\(path)' were built by another version of touchlog (\(code.isEmpty ? "projection code not recorded" : code); this one is \(ProjectionRegistry.code)): run 'touchlog rebuild' (or any writing command) on it"
        }
    }
}
