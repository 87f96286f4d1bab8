"""Sessions beyond one machine: OpenTelemetry spans, lossless bundles and Prometheus metrics.

`spans` maps a session's events to span records in one pass and `pipeline` streams them to a
sink; only `otlp` imports OpenTelemetry and only `metrics` imports prometheus-client, each
when the command that needs it runs. `bundle` moves sessions between stores byte for byte and
`bridge` ships spans live while sessions run.
"""
