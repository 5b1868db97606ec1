extension KombuEnvelope {
    /// The envelope bytes with kombu's restore marks added: `headers.redelivered = true` and
    /// `properties.delivery_info.redelivered = true`, everything else (the delivery tag, the
    /// base64 body) unchanged, as kombu's `restore_by_tag` writes them back to the queue.
    ///
    /// Works on the JSON of the envelope rather than a decoded ``KombuEnvelope`` so the body is
    /// never re-encoded. Bytes that are not a JSON object are returned unchanged.
    public static func markRedelivered(_ raw: [UInt8]) -> [UInt8] {
        guard case .object(var envelope)? = try? JSONParser.parse(raw) else { return raw }
        var headers = envelope["headers"]?.objectValue ?? [:]
        headers["redelivered"] = .bool(true)
        envelope["headers"] = .object(headers)
        var properties = envelope["properties"]?.objectValue ?? [:]
        var info = properties["delivery_info"]?.objectValue ?? [:]
        info["redelivered"] = .bool(true)
        properties["delivery_info"] = .object(info)
        envelope["properties"] = .object(properties)
        return JSONValue.object(envelope).serialized()
    }
}
