// Package promspool exports a spool.Transport's pool as Prometheus metrics.
package promspool
