package conformance

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
)

// transports are the two builds of the generated package: build tag and
// the name shown in the table.
var transports = []struct{ Tag, Name string }{
	{"conf_nethttp", "net/http"},
	{"conf_spool", "spool"},
}

// generate writes one module per transport under root (root/<tag>) with
// the rewritten tests of goroot's net/http, and builds each test binary
// (root/<tag>.test), pruning what does not compile. It returns the pruned
// declarations per tag.
func generate(root, repo, goroot string) (map[string][]pruned, error) {
	files, fset, err := loadTests(filepath.Join(goroot, "src/net/http"))
	if err != nil {
		return nil, err
	}
	src := map[string][]byte{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := files[name]
		rewriteFile(f)
		var buf bytes.Buffer
		if err := printFile(&buf, fset, f); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		src[name] = buf.Bytes()
	}
	out := map[string][]pruned{}
	for _, tr := range transports {
		dir := filepath.Join(root, tr.Tag)
		cp := map[string][]byte{}
		for k, v := range src {
			cp[k] = v
		}
		if err := writeModule(dir, repo, goroot, cp); err != nil {
			return nil, err
		}
		p, err := buildPruned(filepath.Join(dir, testDir), tr.Tag, filepath.Join(root, tr.Tag+".test"))
		if err != nil {
			return nil, err
		}
		out[tr.Tag] = p
	}
	return out, nil
}
