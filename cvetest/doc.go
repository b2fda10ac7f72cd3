// Package cvetest holds one regression test per known HTTP-client
// vulnerability class that applies to spool, each named after a CVE that
// hit another client (Go's net/http, curl, Python requests, undici):
// header and Host CR-LF injection, response parsing quirks that enable
// smuggling, chunked and header floods, decompression bombs, SOCKS5 host
// overflow, proxy credential leaks, connection reuse across routes and
// sensitive headers on redirects and retries.
//
// The tests talk to spool over real loopback sockets: scripted raw servers
// written here, internal/testserver, and, when installed, squid from
// internal/peers. There is no library code in this package.
package cvetest
