package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// goEnv returns `go env name`.
func goEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	return strings.TrimSpace(string(out)), err
}

// writeModule lays out the generated module in dir: go.mod replacing
// spool by the repository at repo, package conf and the std-internal
// stand-ins from testdata, net/http's testcert and internal packages
// copied from GOROOT, and the rewritten test files.
func writeModule(dir, repo, goroot string, files map[string][]byte) error {
	gomod := fmt.Sprintf("module %s\n\ngo 1.26\n\nrequire github.com/spoolhttp/spool v0.0.0\n\nreplace github.com/spoolhttp/spool => %s\n", genModule, repo)
	if err := writeFiles(dir, map[string][]byte{"go.mod": []byte(gomod)}); err != nil {
		return err
	}
	if sum, err := os.ReadFile(filepath.Join(repo, "go.sum")); err == nil {
		if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
			return err
		}
	}
	copies := []struct{ from, to string }{
		{"testdata/conf", "conf"},
		{"testdata/shims/testenv", "internal/testenv"},
		{"testdata/shims/synctest", "internal/synctest"},
		{"testdata/shims/nettrace", "internal/nettrace"},
		{filepath.Join(goroot, "src/net/http/internal/testcert"), "internal/testcert"},
		{filepath.Join(goroot, "src/net/http/internal"), "internal/nethttpinternal"},
		{filepath.Join(goroot, "src/net/http/testdata"), filepath.Join(testDir, "testdata")},
	}
	for _, c := range copies {
		if err := copyGoDir(c.from, filepath.Join(dir, c.to)); err != nil {
			return err
		}
	}
	pkg := filepath.Join(dir, testDir)
	files["doc.go"] = []byte("// Package http holds generated copies of net/http's tests.\npackage http\n")
	return writeFiles(pkg, files)
}

// copyGoDir copies the regular files of from (not its subdirectories,
// not _test.go files) into to.
func copyGoDir(from, to string) error {
	ents, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	out := map[string][]byte{}
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return err
		}
		out[e.Name()] = b
	}
	return writeFiles(to, out)
}

func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
