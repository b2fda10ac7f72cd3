// Package otelspool reports a spool.Transport's pool through OpenTelemetry metrics.
package otelspool
