"""Sessions beyond one machine: OpenTelemetry spans, lossless bundles and Prometheus metrics.

`spans` maps a session's events to span records in one pass and `pipeline` streams them to a
sink: `otlp_http` posts them as OTLP/HTTP protobuf that `otlp_wire` encodes by hand; only
`otlp` (gRPC) imports OpenTelemetry and only `metrics` prometheus-client, each when the
command that needs it runs. `bundle` moves sessions between stores byte for byte and
`bridge` ships spans live while sessions run.
"""
