package conformance

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// maxPruneRounds bounds the compile-and-prune loop; each round removes
// every declaration the compiler named, and cascades (a helper removed,
// then its users) take a few rounds.
const maxPruneRounds = 25

// buildFlags are shared by every build of the generated package:
// -checklinkname=0 lets package conf linkname net/http's unexported error
// values (see testdata/conf/common.go).
var buildFlags = []string{"-ldflags=-checklinkname=0", "-mod=mod"}

var errLine = regexp.MustCompile(`^\./([^:]+\.go):(\d+):\d+: (.*)$`)

// pruned is one removed declaration and why.
type pruned struct {
	Decl, File, Reason string
}

// buildPruned compiles the test binary of the package in dir with tag;
// every declaration the compiler rejects is removed (a test that uses a
// net/http internal does not compile outside net/http) and the build is
// retried. It returns what was removed.
func buildPruned(dir, tag, bin string) ([]pruned, error) {
	var out []pruned
	removed := map[string]string{} // decl name → root reason
	for range maxPruneRounds {
		args := append([]string{"test", "-c", "-o", bin, "-tags", tag, "-gcflags=-e"}, buildFlags...)
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		msg, err := cmd.CombinedOutput()
		if err == nil {
			return out, nil
		}
		if os.Getenv("SPOOL_CONFORMANCE_DEBUG") != "" {
			fmt.Fprintf(os.Stderr, "== %s build errors:\n%s\n", tag, msg)
		}
		byFile := map[string]map[int]string{}
		for _, line := range strings.Split(string(msg), "\n") {
			m := errLine.FindStringSubmatch(line)
			if m == nil || !strings.HasSuffix(m[1], "_test.go") {
				continue
			}
			n, _ := strconv.Atoi(m[2])
			if byFile[m[1]] == nil {
				byFile[m[1]] = map[int]string{}
			}
			if _, dup := byFile[m[1]][n]; !dup {
				byFile[m[1]][n] = m[3]
			}
		}
		if len(byFile) == 0 {
			return out, fmt.Errorf("build %s (%s) failed outside the test files:\n%s", dir, tag, msg)
		}
		for file, lines := range byFile {
			p, err := pruneFile(filepath.Join(dir, file), lines, removed)
			if err != nil {
				return out, err
			}
			out = append(out, p...)
		}
	}
	return out, fmt.Errorf("build %s (%s): still failing after %d prune rounds", dir, tag, maxPruneRounds)
}

// pruneFile removes the declarations (or import/var specs) that hold the
// error lines of path, recording each with its root reason.
func pruneFile(path string, lines map[int]string, removed map[string]string) ([]pruned, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []pruned
	sorted := slices.Sorted(maps.Keys(lines)) // the first error names the reason
	at := func(n ast.Node) (string, bool) {
		from, to := fset.Position(n.Pos()).Line, fset.Position(n.End()).Line
		for _, l := range sorted {
			if l >= from && l <= to {
				return lines[l], true
			}
		}
		return "", false
	}
	var keep []ast.Decl
	for _, d := range f.Decls {
		msg, hit := at(d)
		if !hit {
			keep = append(keep, d)
			continue
		}
		if gd, ok := d.(*ast.GenDecl); ok && len(gd.Specs) > 1 {
			gd.Specs = slices.DeleteFunc(gd.Specs, func(s ast.Spec) bool {
				m, hit := at(s)
				if hit {
					out = append(out, record(specName(s), filepath.Base(path), m, removed))
				}
				return hit
			})
			if len(gd.Specs) > 0 {
				keep = append(keep, gd)
			}
			continue
		}
		out = append(out, record(declName(d), filepath.Base(path), msg, removed))
	}
	f.Decls = keep
	f.Comments = keepComments(f)
	return out, writeFile(fset, f, path)
}

// keepComments keeps the file's header comments and those inside kept
// declarations, so a removed declaration's comments do not linger.
func keepComments(f *ast.File) []*ast.CommentGroup {
	var keep []*ast.CommentGroup
	for _, cg := range f.Comments {
		if cg.Pos() < f.Name.Pos() {
			keep = append(keep, cg)
			continue
		}
		for _, d := range f.Decls {
			start := d.Pos()
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Doc != nil {
				start = fd.Doc.Pos()
			}
			if gd, ok := d.(*ast.GenDecl); ok && gd.Doc != nil {
				start = gd.Doc.Pos()
			}
			if cg.Pos() >= start && cg.End() <= d.End() {
				keep = append(keep, cg)
				break
			}
		}
	}
	return keep
}

var (
	reUndefined = regexp.MustCompile(`undefined: (\w+)`)
	reNoMethod  = regexp.MustCompile(`has no field or method (\w+)`)
)

// record notes that decl was removed for msg. A removal caused by an
// earlier one (a helper's user) inherits the helper's root reason.
func record(decl, file, msg string, removed map[string]string) pruned {
	reason := msg
	for _, re := range []*regexp.Regexp{reUndefined, reNoMethod} {
		if m := re.FindStringSubmatch(msg); m != nil {
			if root, ok := removed[m[1]]; ok {
				reason = root
			} else {
				reason = "uses " + m[1]
			}
			break
		}
	}
	removed[decl] = reason
	if i := strings.LastIndexByte(decl, '.'); i >= 0 {
		removed[decl[i+1:]] = reason // methods are named without their type
	}
	return pruned{Decl: decl, File: file, Reason: reason}
}

func declName(d ast.Decl) string {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv != nil && len(d.Recv.List) > 0 {
			return recvName(d.Recv.List[0].Type) + "." + d.Name.Name
		}
		return d.Name.Name
	case *ast.GenDecl:
		if len(d.Specs) > 0 {
			return specName(d.Specs[0])
		}
	}
	return "?"
}

func recvName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return recvName(e.X)
	case *ast.IndexExpr:
		return recvName(e.X)
	case *ast.Ident:
		return e.Name
	}
	return "?"
}

func specName(s ast.Spec) string {
	switch s := s.(type) {
	case *ast.TypeSpec:
		return s.Name.Name
	case *ast.ValueSpec:
		var names []string
		for _, n := range s.Names {
			names = append(names, n.Name)
		}
		return strings.Join(names, ",")
	case *ast.ImportSpec:
		return "import " + s.Path.Value
	}
	return "?"
}
