// Command spool drives spool.Transport from the shell: `spool bench` is a
// load generator (against an embedded server when no URL is given) and
// `spool get` a verbose one-shot client with a timing breakdown.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"

	"github.com/spoolhttp/spool"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the request or the run failed
	exitUsage   = 2 // bad command line
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return mainJob(ctx, stdout, stderr)
	}
	switch cmd := args[0]; cmd {
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "get":
		return runGet(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "spool %s %s %s/%s\n", spool.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	case "help", "-h", "-help", "--help":
		io.WriteString(stdout, topUsage)
		return exitOK
	default:
		if strings.HasPrefix(cmd, "-") { // `spool -n 100`: flags of the default command
			return runBench(ctx, args, stdout, stderr)
		}
		if strings.Contains(cmd, "://") { // `spool URL`: fetch it and print the body
			return runGet(ctx, args, stdout, stderr)
		}
		return usageError(stderr, "", fmt.Errorf("unknown command %q", cmd))
	}
}

const topUsage = `spool — an HTTP client transport, from the shell

Usage:
  spool                  benchmark the embedded server (bench -n 5000 -c 16)
  spool bench [flags] [URL]
  spool get [flags] URL
  spool URL              fetch URL and print its body (get URL)
  spool version

Run 'spool bench --help' or 'spool get --help' for flags.
`

// usageError prints one line about a bad command line and returns exitUsage.
func usageError(stderr io.Writer, cmd string, err error) int {
	name, help := "spool", "spool --help"
	if cmd != "" {
		name, help = "spool "+cmd, "spool "+cmd+" --help"
	}
	fmt.Fprintf(stderr, "%s: %v (see %s)\n", name, err, help)
	return exitUsage
}

// failure prints one line about a failed operation and returns exitFailure.
func failure(stderr io.Writer, what string, err error) int {
	fmt.Fprintf(stderr, "spool: %s: %s\n", what, brief(err))
	return exitFailure
}
