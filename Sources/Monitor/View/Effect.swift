/// What the loop must do after ``ViewState/handle(_:model:)``: key handling never draws and
/// never does I/O itself, it says what should happen (htop's `HandlerResult`).
public enum Effect: Sendable, Hashable {
    /// Nothing changed.
    case none
    /// The view changed: lay out and draw again.
    case redraw
    /// Perform an action (the operator confirmed it), then redraw.
    case perform(MonitorAction)
    /// Leave the dashboard.
    case quit
}
