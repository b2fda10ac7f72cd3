package conformance

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// targetFiles are net/http's client-side test files the suite runs.
var targetFiles = []string{
	"transport_test.go", "client_test.go", "clientserver_test.go",
	"transport_dial_test.go", "requestwrite_test.go", "alpn_test.go",
}

// Import paths of std-internal packages the tests use, mapped to the
// generated module's stand-ins (std's internal packages cannot be
// imported from outside std).
var importMap = map[string]string{
	"internal/testenv":           genModule + "/internal/testenv",
	"internal/synctest":          genModule + "/internal/synctest",
	"internal/nettrace":          genModule + "/internal/nettrace",
	"net/http/internal/testcert": genModule + "/internal/testcert",
	"net/http/internal":          genModule + "/internal/nethttpinternal",
}

const (
	genModule = "conftests"
	confPkg   = genModule + "/conf"
	testDir   = "nethttp" // the generated test package's directory
)

// hookFuncs maps export_test.go's Transport methods that package conf
// stands in for to its functions (a method cannot be added to net/http's
// Transport from outside).
var hookFuncs = map[string]string{
	"IdleConnKeysForTesting":       "ConfIdleConnKeys",
	"IdleConnKeyCountForTesting":   "ConfIdleConnKeyCount",
	"IdleConnCountForTesting":      "ConfIdleConnCount",
	"NumPendingRequestsForTesting": "ConfNumPendingRequests",
}

// confNames are the identifiers package conf offers to the tests; a file
// that uses one gets conf dot-imported.
var confNames = []string{
	"ConfTransport", "ConfClient", "ConfWithT", "ConfErrIs", "ConfErrEq",
	"CondSkipHTTP2", "ExportHttp2ConfigureServer", "ExportHttp2ConfigureTransport",
	"SetRSTAvoidanceDelay", "MaxWriteWaitBeforeConnReuse", "SetEnterRoundTripHook", "NewLoggingConn", "ResponseWriterConnForTesting", "DefaultUserAgent", "ExportErrRequestCanceled",
	"ExportErrRequestCanceledConn", "ExportErrServerClosedIdle",
	"ConfIdleConnKeys", "ConfIdleConnKeyCount", "ConfIdleConnCount", "ConfNumPendingRequests",
}

// loadTests parses net/http's test files of package http_test (plus
// requestwrite_test.go, an internal test turned external), keeping every
// declaration of the target files and only the helpers (no Test, Benchmark,
// Example or Fuzz functions) of the others.
func loadTests(src string) (map[string]*ast.File, *token.FileSet, error) {
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(src, "*_test.go"))
	if err != nil {
		return nil, nil, err
	}
	files := map[string]*ast.File{}
	for _, path := range names {
		base := filepath.Base(path)
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, nil, err
		}
		target := slices.Contains(targetFiles, base)
		switch {
		case f.Name.Name == "http" && base == "requestwrite_test.go":
			f.Name.Name = "http_test"
			addImport(f, ".", "net/http")
		case f.Name.Name != "http_test":
			continue
		}
		if !target {
			dropTests(f, base == "main_test.go")
		}
		files[base] = f
	}
	if f := files["requestwrite_test.go"]; f != nil {
		renameCollisions(f, files)
	}
	if f := files["clientserver_test.go"]; f == nil || !addHTTPS1Mode(f) {
		return nil, nil, fmt.Errorf("clientserver_test.go: no run helper with default modes {http1Mode, http2Mode}")
	}
	return files, fset, nil
}

// addHTTPS1Mode makes the run helper's default modes h1, https1, h2 (the
// issue counts units in those three modes; upstream's default is h1 and
// h2, with https1 added by some tests).
func addHTTPS1Mode(f *ast.File) bool {
	done := false
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != "run" || fd.Recv != nil {
			continue
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok || len(cl.Elts) != 2 || !isIdent(cl.Elts[0], "http1Mode") || !isIdent(cl.Elts[1], "http2Mode") {
				return true
			}
			cl.Elts = []ast.Expr{cl.Elts[0], ast.NewIdent("https1Mode"), cl.Elts[1]}
			done = true
			return false
		})
	}
	return done
}

// renameCollisions renames the top-level declarations of f (an internal
// test file made external) that another file also declares: in package
// http they never met.
func renameCollisions(f *ast.File, files map[string]*ast.File) {
	others := map[string]bool{}
	for _, g := range files {
		if g != f {
			for _, n := range topNames(g) {
				others[n] = true
			}
		}
	}
	clash := map[string]bool{}
	for _, n := range topNames(f) {
		if others[n] {
			clash[n] = true
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && clash[id.Name] {
			id.Name += "_requestwrite"
		}
		return true
	})
}

// topNames lists the names f declares at package level (not methods).
func topNames(f *ast.File) []string {
	var names []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				names = append(names, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					names = append(names, s.Name.Name)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	return names
}

// dropTests removes the test entry points of a helper file.
func dropTests(f *ast.File, keepMain bool) {
	f.Decls = slices.DeleteFunc(f.Decls, func(d ast.Decl) bool {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil {
			return false
		}
		if fd.Name.Name == "TestMain" {
			return !keepMain
		}
		for _, p := range []string{"Test", "Benchmark", "Example", "Fuzz"} {
			if strings.HasPrefix(fd.Name.Name, p) {
				return true
			}
		}
		return false
	})
}

func addImport(f *ast.File, name, path string) {
	spec := &ast.ImportSpec{Path: &ast.BasicLit{Kind: token.STRING, Value: strconv.Quote(path)}}
	if name != "" {
		spec.Name = ast.NewIdent(name)
	}
	decl := &ast.GenDecl{Tok: token.IMPORT, Specs: []ast.Spec{spec}}
	f.Decls = append([]ast.Decl{decl}, f.Decls...)
}

// rewriteFile applies the transport swap and the hook stand-ins to f.
func rewriteFile(f *ast.File) {
	httpName := ""
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if to, ok := importMap[p]; ok {
			imp.Path.Value = strconv.Quote(to)
		}
		if p == "net/http" && (imp.Name == nil || imp.Name.Name != ".") {
			httpName = "http"
			if imp.Name != nil {
				httpName = imp.Name.Name
			}
		}
	}
	replaceExprs(f, func(e ast.Expr) ast.Expr { return rewriteExpr(e, httpName) })
	if usesConf(f) {
		addImport(f, ".", confPkg)
	}
}

// rewriteExpr is the per-expression rewrite: Transport (dot-imported or
// http.Transport) becomes ConfTransport; ts.Client() becomes ConfClient(ts);
// r.WithT(t) becomes r; comparisons with net/http's unexported errors go
// through ConfErrIs/ConfErrEq.
func rewriteExpr(e ast.Expr, httpName string) ast.Expr {
	switch e := e.(type) {
	case *ast.Ident:
		if e.Name == "Transport" {
			return ast.NewIdent("ConfTransport")
		}
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && httpName != "" && x.Name == httpName {
			switch {
			case e.Sel.Name == "Transport":
				return ast.NewIdent("ConfTransport")
			case slices.Contains(confNames, e.Sel.Name):
				return ast.NewIdent(e.Sel.Name)
			}
		}
	case *ast.CallExpr:
		return rewriteCall(e)
	case *ast.BasicLit:
		// Texts naming the test package's path (log lines with a caller).
		if e.Kind == token.STRING && strings.Contains(e.Value, "net/http_test.") {
			return &ast.BasicLit{Kind: token.STRING, Value: strings.ReplaceAll(e.Value, "net/http_test.", genModule+"/"+testDir+"_test.")}
		}
	case *ast.BinaryExpr:
		if (e.Op == token.EQL || e.Op == token.NEQ) && (isExportErr(e.X) || isExportErr(e.Y)) {
			var out ast.Expr = &ast.CallExpr{Fun: ast.NewIdent("ConfErrEq"), Args: []ast.Expr{e.X, e.Y}}
			if e.Op == token.NEQ {
				out = &ast.UnaryExpr{Op: token.NOT, X: out}
			}
			return out
		}
	}
	return e
}

func rewriteCall(c *ast.CallExpr) ast.Expr {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return c
	}
	switch {
	case sel.Sel.Name == "Client" && len(c.Args) == 0:
		return &ast.CallExpr{Fun: ast.NewIdent("ConfClient"), Args: []ast.Expr{sel.X}}
	case hookFuncs[sel.Sel.Name] != "":
		return &ast.CallExpr{Fun: ast.NewIdent(hookFuncs[sel.Sel.Name]), Args: append([]ast.Expr{sel.X}, c.Args...)}
	case sel.Sel.Name == "WithT" && len(c.Args) == 1:
		return &ast.CallExpr{Fun: ast.NewIdent("ConfWithT"), Args: []ast.Expr{sel.X, c.Args[0]}}
	case sel.Sel.Name == "Is" && isIdent(sel.X, "errors") && len(c.Args) == 2 && isExportErr(c.Args[1]):
		return &ast.CallExpr{Fun: ast.NewIdent("ConfErrIs"), Args: c.Args}
	}
	return c
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isExportErr(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && strings.HasPrefix(id.Name, "ExportErr")
}

// usesConf reports whether f names anything package conf offers.
func usesConf(f *ast.File) bool {
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && slices.Contains(confNames, id.Name) {
			found = true
		}
		return !found
	})
	return found
}

// writeFile prints f to path.
func writeFile(fset *token.FileSet, f *ast.File, path string) error {
	var buf bytes.Buffer
	if err := printFile(&buf, fset, f); err != nil {
		return fmt.Errorf("print %s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func printFile(buf *bytes.Buffer, fset *token.FileSet, f *ast.File) error {
	return (&printer.Config{Mode: printer.UseSpaces | printer.TabIndent, Tabwidth: 8}).Fprint(buf, fset, f)
}
