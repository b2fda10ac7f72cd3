package testutil

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The child server is the test binary re-executed as a plain net/http
// server in another process, so that what a test measures in its own
// process (goroutines, allocations, file descriptors, heap) is the
// client's alone. The package's TestMain dispatches before anything else:
//
//	func TestMain(m *testing.M) {
//		if testutil.IsChildServer() {
//			testutil.ServeChildServer(&http.Server{Handler: handler()})
//			return
//		}
//		goleak.VerifyTestMain(m)
//	}
//
// and a test calls StartChildServer for the server's address.

// childServerEnv marks the process StartChildServer started.
const childServerEnv = "SPOOL_TEST_CHILD_SERVER"

// IsChildServer reports whether this process is a child server started by
// StartChildServer; TestMain then serves instead of running the tests.
func IsChildServer() bool { return os.Getenv(childServerEnv) != "" }

// ServeChildServer is the child's side: it serves srv on a loopback port,
// prints the address (or "ERR" and the error) as the first line of stdout
// for StartChildServer, and exits when its stdin closes, that is when the
// parent's test ends or the parent dies. It returns only if srv.Serve does.
func ServeChildServer(srv *http.Server) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }() // dies with its parent
	srv.Serve(ln)
}

// StartChildServer re-executes the test binary as a child server, with env
// ("NAME=value") added to its environment, and returns the server's
// host:port. The child's stderr is the test binary's; it exits when the
// test ends.
func StartChildServer(t testing.TB, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childServerEnv+"=1"), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.HasPrefix(line, "ERR") {
		t.Fatalf("child server: %q %v (does the package's TestMain dispatch on testutil.IsChildServer?)", line, err)
	}
	return strings.TrimSpace(line)
}
