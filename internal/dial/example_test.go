package dial_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/spoolhttp/spool/internal/dial"
)

// A server on a Unix socket is reached with a custom DialContext; the
// Target's address still names the HTTP host (it goes in the Host header).
func Example_unixSocket() {
	dir, _ := os.MkdirTemp("", "spool-dial")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "http.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello over unix")
	})}
	go srv.Serve(ln)
	defer srv.Close()

	d := dial.New(dial.Config{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	})
	res, err := d.Dial(context.Background(), dial.Target{Scheme: "http", Addr: "localhost:80"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Conn.Close()
	io.WriteString(res.Conn, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(res.Conn), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK hello over unix
}
