package spool_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spoolhttp/spool"
)

// newTransport returns a Transport closed at the end of the test.
func newTransport(t testing.TB, tr *spool.Transport) *spool.Transport {
	t.Helper()
	if tr == nil {
		tr = &spool.Transport{}
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func get(t testing.TB, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return string(b)
}

// countingBody records how many times Close is called.
type countingBody struct {
	io.Reader
	closes atomic.Int32
}

func (b *countingBody) Close() error { b.closes.Add(1); return nil }

// The child server: the test binary re-executed as a plain net/http
// server in another process, so the client's goroutines can be counted
// without the server's.
const childServerEnv = "SPOOL_TEST_CHILD_SERVER"

func runChildServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }() // dies with its parent
	// SPOOL_BARRIER=N holds every request until N are in flight, so a
	// client with N concurrent requests provably opens N conns.
	n, _ := strconv.Atoi(os.Getenv("SPOOL_BARRIER"))
	var mu sync.Mutex
	arrived := 0
	open := make(chan struct{})
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n > 0 {
			mu.Lock()
			if arrived++; arrived == n {
				close(open)
			}
			mu.Unlock()
			<-open
		}
		io.WriteString(w, "hello, world")
	}))
}

// startChildServer runs runChildServer in a child process and returns its
// address; the child exits when the test ends.
func startChildServer(t testing.TB, barrier int) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childServerEnv+"=1", "SPOOL_BARRIER="+strconv.Itoa(barrier))
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.HasPrefix(line, "ERR") {
		t.Fatalf("child server: %q %v", line, err)
	}
	return strings.TrimSpace(line)
}
