package main

import "github.com/spoolhttp/spool/internal/testcert"

// writeCert writes h2specd's TLS identity into dir (server.pem, server.key;
// see internal/testcert), so the script needs no openssl on a fresh CI
// machine.
func writeCert(dir string) error {
	_, err := testcert.Write(dir)
	return err
}
