package conformance

import (
	"go/ast"
	"reflect"
)

var (
	exprType  = reflect.TypeFor[ast.Expr]()
	identType = reflect.TypeFor[*ast.Ident]()
)

// replaceExprs walks n and replaces every expression e in an ast.Expr slot
// by f(e), children first. Keys of key-value pairs that are plain
// identifiers (struct field names in composite literals) are left alone.
// go/ast has no replacing walker (x/tools' astutil has one; the main module
// does not take that dependency for a test).
func replaceExprs(n ast.Node, f func(ast.Expr) ast.Expr) {
	walkValue(reflect.ValueOf(n), f)
}

func walkValue(v reflect.Value, f func(ast.Expr) ast.Expr) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		switch v.Interface().(type) {
		case *ast.Object, *ast.Scope, *ast.CommentGroup:
			return
		}
		walkValue(v.Elem(), f)
	case reflect.Interface:
		if !v.IsNil() {
			walkValue(v.Elem(), f)
		}
	case reflect.Struct:
		kv, isKV := v.Addr().Interface().(*ast.KeyValueExpr)
		for i := range v.NumField() {
			fv := v.Field(i)
			if !fv.CanSet() {
				continue
			}
			if isKV && i == 0 {
				if _, ok := kv.Key.(*ast.Ident); ok {
					continue
				}
			}
			setExpr(fv, f)
		}
	case reflect.Slice:
		for i := range v.Len() {
			setExpr(v.Index(i), f)
		}
	}
}

func setExpr(fv reflect.Value, f func(ast.Expr) ast.Expr) {
	if fv.Type() == identType {
		return // an *ast.Ident slot (a name being declared, a selector's Sel)
	}
	if fv.Type() != exprType || fv.IsNil() {
		walkValue(fv, f)
		return
	}
	walkValue(fv.Elem(), f)
	fv.Set(reflect.ValueOf(f(fv.Interface().(ast.Expr))))
}
