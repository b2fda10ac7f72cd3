package conformance

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These run in plain `go test ./...`: the generator's rewrite and the
// CI rule, without building net/http's tests.

const rewriteIn = `package http_test

import (
	"errors"
	. "net/http"
	nethttp "net/http"
)

type holder struct{ Transport RoundTripper }

func f(ts interface{ Client() *Client }, err error) {
	tr := &Transport{DisableKeepAlives: true}
	var _ *nethttp.Transport = tr
	c := &Client{Transport: tr}
	_ = ts.Client().Transport.(*Transport)
	_ = holder{Transport: c.Transport}
	_ = errors.Is(err, ExportErrRequestCanceled)
	_ = err == ExportErrRequestCanceledConn
	_ = err != ExportErrServerClosedIdle
	_ = tr.IdleConnCountForTesting("http", "a:1")
	_ = "from net/http_test.f"
}
`

func TestRewriteSwapsTransport(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x_test.go", rewriteIn, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	rewriteFile(f)
	var buf bytes.Buffer
	if err := printFile(&buf, fset, f); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		`. "conftests/conf"`,
		`tr := &ConfTransport{DisableKeepAlives: true}`,
		`var _ *ConfTransport = tr`,
		`c := &Client{Transport: tr}`,                      // a field key is not the type
		`type holder struct{ Transport RoundTripper }`,     // nor a field name
		`_ = ConfClient(ts).Transport.(*ConfTransport)`,    // ts.Client() gets the transport under test
		`_ = holder{Transport: c.Transport}`,               // nor a selector
		`_ = ConfErrIs(err, ExportErrRequestCanceled)`,     // unexported net/http errors
		`_ = ConfErrEq(err, ExportErrRequestCanceledConn)`, //
		`_ = !ConfErrEq(err, ExportErrServerClosedIdle)`,   //
		`_ = ConfIdleConnCount(tr, "http", "a:1")`,         // export_test.go method → conf function
		`_ = "from conftests/nethttp_test.f"`,              // the generated package's path
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rewritten file lacks %q:\n%s", want, got)
		}
	}
}

func TestCIRuleFailsOnlyNewFailures(t *testing.T) {
	rows := []unitRow{
		{Unit: "TestA/h1", Test: "TestA", St: map[string]string{netTag: stPass, spoolTag: stPass}},
		{Unit: "TestB/h1", Test: "TestB", St: map[string]string{netTag: stPass, spoolTag: stFail}},    // known
		{Unit: "TestC", Test: "TestC", St: map[string]string{netTag: stPass, spoolTag: stTimeout}},    // difference
		{Unit: "TestD/h2", Test: "TestD", St: map[string]string{netTag: stPass, spoolTag: stCrash}},   // new
		{Unit: "TestE/h1", Test: "TestE", St: map[string]string{netTag: stFail, spoolTag: stFail}},    // fails on both: not counted
		{Unit: "TestF/h1", Test: "TestF", St: map[string]string{netTag: stPass, spoolTag: stPass}},    // known, fixed
		{Unit: "TestG/h1", Test: "TestG", St: map[string]string{netTag: stPass, spoolTag: stNoBuild}}, // new
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "l.txt")
	os.WriteFile(path, []byte("# comment\nTestC a reason\n"), 0o644)
	diffs, err := readList(path)
	if err != nil {
		t.Fatal(err)
	}
	known := list{"TestB": "flaky", "TestF/h1": ""} // a whole test, a unit
	s := summarize(rows, diffs, known)
	if s.NetPass != 6 || s.SpoolPass != 2 || s.Differences != 1 || s.Known != 1 || s.New != 2 {
		t.Errorf("summary = %+v", s)
	}
	if strings.Join(s.NewUnits, ",") != "TestD/h2,TestG/h1" || strings.Join(s.Fixed, ",") != "TestF/h1" {
		t.Errorf("new = %v, fixed = %v", s.NewUnits, s.Fixed)
	}
	if diffs["TestC"] != "a reason" {
		t.Errorf("reason = %q", diffs["TestC"])
	}
}
