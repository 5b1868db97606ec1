/// What the monitor loop needs from a terminal: its size, a key with a short timeout, and a
/// way to show a frame. ``CursesScreen`` is the real one; tests use a recording fake.
public protocol MonitorScreen: AnyObject {
    /// The current size in cells.
    func size() -> TerminalSize
    /// The next key, waiting at most the screen's input timeout (~100 ms); `nil` if none came.
    func readKey() -> Key?
    /// Shows a frame, replacing the previous one.
    func draw(_ frame: Frame)
}
