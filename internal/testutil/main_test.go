package testutil_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/spoolhttp/spool/internal/testutil"
	"go.uber.org/goleak"
)

// greetingEnv is passed to the child server by TestChildServer.
const greetingEnv = "TESTUTIL_GREETING"

func TestMain(m *testing.M) {
	if testutil.IsChildServer() {
		testutil.ServeChildServer(&http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%d %s", os.Getpid(), os.Getenv(greetingEnv))
		})})
		return
	}
	goleak.VerifyTestMain(m)
}
