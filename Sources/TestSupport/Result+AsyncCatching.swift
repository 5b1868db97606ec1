extension Result where Failure == any Error {
    /// The outcome of an async throwing call, as the standard library's `Result(catching:)`
    /// gives for a synchronous one: for tests that check an error after other assertions.
    public init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
