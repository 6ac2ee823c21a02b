package failpoints_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nimsync/nimsync/internal/failpoints"
	"github.com/stretchr/testify/require"
)

var nameRule = regexp.MustCompile(`^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$`)

// TestTable: every name reads package/site, is listed once, and its kind
// matches its prefix (bug/ for Bug, contract/ for Contract, step/ for Step).
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range failpoints.All() {
		require.Regexp(t, nameRule, p.Name)
		require.False(t, seen[p.Name], "%s is listed twice", p.Name)
		seen[p.Name] = true
		require.NotEmpty(t, p.Site, p.Name)
		require.Equal(t, p.Kind == failpoints.Bug, strings.HasPrefix(p.Name, "bug/"), p.Name)
		require.Equal(t, p.Kind == failpoints.Contract, strings.HasPrefix(p.Name, "contract/"), p.Name)
		require.Equal(t, p.Kind == failpoints.Step, strings.HasPrefix(p.Name, "step/"), p.Name)
	}
	require.Equal(t, "github.com/nimsync/nimsync/core/chan/park", failpoints.Path(failpoints.ChanPark))
}

// TestFailpointsTable: every marker in core's sources (a failpoint.Inject,
// failpoint.InjectCall or planted call) names an entry of the table, through
// one of the unexported constants of core/failpoints.go, and every entry
// of the table has a marker in core.
func TestFailpointsTable(t *testing.T) {
	fset := token.NewFileSet()
	pkgs := map[string]*ast.File{} // path → file, of this package and core
	parse := func(pattern string) {
		files, err := filepath.Glob(pattern)
		require.NoError(t, err)
		require.NotEmpty(t, files, pattern)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			pkgs[f] = file
		}
	}
	parse("*.go")
	parse(filepath.Join("..", "..", "core", "*.go"))

	// This package's name constants: identifier → marker name.
	names := map[string]string{}
	// core's constants: identifier → this package's identifier.
	aliases := map[string]string{}
	for path, file := range pkgs {
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					switch v := vs.Values[i].(type) {
					case *ast.BasicLit:
						if file.Name.Name == "failpoints" && v.Kind == token.STRING && id.Name != "Package" {
							s, err := strconv.Unquote(v.Value)
							require.NoError(t, err)
							names[id.Name] = s
						}
					case *ast.SelectorExpr:
						if x, ok := v.X.(*ast.Ident); ok && x.Name == "failpoints" {
							require.Equal(t, "failpoints.go", filepath.Base(path), "core names markers in failpoints.go only: %s", id.Name)
							aliases[id.Name] = v.Sel.Name
						}
					}
				}
			}
		}
	}
	require.NotEmpty(t, aliases, "no marker names in core/failpoints.go")

	used := map[string]bool{} // marker name → has a marker in core
	for _, file := range pkgs {
		if file.Name.Name != "core" {
			continue
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if fd, ok := n.(*ast.FuncDecl); ok && fd.Name.Name == "planted" && fd.Recv == nil {
				return false // its markers take the name planted was called with
			}
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 || !isMarker(call.Fun) {
				return true
			}
			pos := fset.Position(call.Pos())
			var id string
			switch a := call.Args[0].(type) {
			case *ast.Ident:
				alias, ok := aliases[a.Name]
				require.True(t, ok, "%s: marker %s is not a constant of core/failpoints.go", pos, a.Name)
				id = alias
			case *ast.SelectorExpr:
				x, ok := a.X.(*ast.Ident)
				require.True(t, ok && x.Name == "failpoints", "%s: marker name is not from internal/failpoints", pos)
				id = a.Sel.Name
			default:
				t.Fatalf("%s: marker name is not a constant of internal/failpoints (declare it there)", pos)
			}
			name, ok := names[id]
			require.True(t, ok, "%s: failpoints.%s is not a marker name", pos, id)
			used[name] = true
			return true
		})
	}
	listed := map[string]bool{}
	for _, p := range failpoints.All() {
		listed[p.Name] = true
		require.True(t, used[p.Name], "%s is in the table but no marker in core uses it", p.Name)
	}
	for id, name := range names {
		require.True(t, listed[name], "failpoints.%s (%q) is declared but not in the table", id, name)
	}
	for name := range used {
		require.True(t, listed[name], "core marks %q, which the table does not list", name)
	}
}

// isMarker reports whether fun is failpoint.Inject, failpoint.InjectCall or
// core's planted.
func isMarker(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name == "planted"
	case *ast.SelectorExpr:
		x, ok := f.X.(*ast.Ident)
		return ok && x.Name == "failpoint" && (f.Sel.Name == "Inject" || f.Sel.Name == "InjectCall")
	}
	return false
}
