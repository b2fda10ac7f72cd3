// Package faulttest is spool's fault suite: one test per row of the fault
// table (TestF<n>_<Name>), each asserting the behaviour a caller must be
// able to rely on when the network or the server misbehaves: a peer that
// closes or resets a connection at the worst moment, stalls, floods, speaks
// the wrong protocol, a proxy that refuses, a storm of cancellations.
//
// Servers are the scripted testserver (real loopback), raw net.Listeners
// written in the tests for exact bytes, internal/testnet inside
// testing/synctest bubbles for anything timed, and real nginx and squid via
// internal/peers where installed (those tests skip cleanly otherwise).
//
// Bytes-read bounds are measured with a counting net.Conn installed through
// Transport.DialContext. Every test binary ends with goleak.
//
// The package holds tests only; this file exists so it builds.
package faulttest
