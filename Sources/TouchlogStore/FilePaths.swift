/// The directory and the last component of `path`, by its last slash: `"r"` -> `(".", "r")`, `"/x"` ->
/// `("/", "x")`, `"a/b"` -> `("a", "b")`. Written out because Foundation's `deletingLastPathComponent`
/// traps on some one-character relative paths on Linux.
public func directoryAndName(ofPath path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let directory = slash == path.startIndex ? "/" : String(path[..<slash])
    return (directory, String(path[path.index(after: slash)...]))
}
