public import Celeriac
public import Foundation

extension ConnectionOptions {
    /// The settings in effect, resolved as `qworker` resolves them: these flags, then
    /// `CELERY_*` environment variables, then the config file (`--config`, `$CELERIAC_CONFIG`
    /// or `./celeriac.yaml`), then Celery's defaults.
    ///
    /// - Parameter environment: The process environment.
    /// - Throws: ``Celeriac/ConfigError`` naming the file or variable that is wrong.
    public func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> CeleriacConfig {
        var resolved = try CeleriacConfig.load(file: config, environment: environment)
        if let broker { resolved.brokerURL = broker }
        if let resultBackend {
            resolved.resultsDisabled = resultBackend.lowercased() == "disabled"
            resolved.resultBackend = resolved.resultsDisabled ? nil : resultBackend
        }
        return resolved
    }
}
