package mutation

import (
	"go/ast"
	"go/token"
)

// plantedFunc and plantedConst are core's planted-bug switches
// (core/planted_chaos.go, planted_off.go): `planted(name)` is true only
// when the harness's self-test switched the planted bug name on, and
// plantedBugs is the constant that compiles the bugs in (a chaos build)
// or out, as in `if plantedBugs && planted(name)`.
const (
	plantedFunc  = "planted"
	plantedConst = "plantedBugs"
)

// stepConst is the constant that compiles core's serialized-mode waits in
// (a chaos build) or out, as in `if stepMarkers { awaitStep(...) }`
// (core/step.go). The mutation lane runs plain builds, where such a body
// is dead code: a mutant there would survive as an equivalent.
const stepConst = "stepMarkers"

// excluded holds the regions of a file that are not mutated: a mutant
// whose position falls inside one is dropped.
type excluded struct {
	spans [][2]token.Pos // [lo, hi)
}

func (x excluded) covers(pos token.Pos) bool {
	for _, s := range x.spans {
		if s[0] <= pos && pos < s[1] {
			return true
		}
	}
	return false
}

// exclusions finds the regions of f that are not mutated (see the package
// doc): failpoint calls with their arguments and closures; expressions of
// planted-bug switches alone (planted(...), plantedBugs, and those under
// !, && and ||) and the `!` applied to one (removing it would switch the
// bug on: the self-test's job); an if whose condition is true only with a
// planted bug on (planted(...) is one of its top-level conjuncts, not
// negated), but for its else branch; an if whose condition is
// stepMarkers, but for its else branch; and array lengths in types.
func exclusions(f *ast.File) excluded {
	var x excluded
	span := func(n ast.Node) { x.spans = append(x.spans, [2]token.Pos{n.Pos(), n.End()}) }
	ast.Inspect(f, func(n ast.Node) bool {
		if e, ok := n.(ast.Expr); ok && isPlanted(e) {
			span(e) // planted-bug switches alone (a leading ! included): no bug is on in a mutant's run
			return false
		}
		switch n := n.(type) {
		case *ast.CallExpr:
			if isFailpoint(n) {
				span(n)
			}
		case *ast.IfStmt:
			if id, ok := ast.Unparen(n.Cond).(*ast.Ident); ok && id.Name == stepConst {
				x.spans = append(x.spans, [2]token.Pos{n.Pos(), n.Body.End()})
			}
			if needsPlanted(n.Cond) {
				// The condition's other operands and the body matter only
				// with the bug on; the else branch is the plain path.
				x.spans = append(x.spans, [2]token.Pos{n.Pos(), n.Body.End()})
			}
		case *ast.ArrayType:
			if n.Len != nil {
				span(n.Len)
			}
		}
		return true
	})
	return x
}

// isFailpoint reports whether call calls a function of package failpoint.
func isFailpoint(call *ast.CallExpr) bool {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == "failpoint"
}

// isPlanted reports whether e is made of planted-bug switches alone: a
// call planted(...), plantedBugs, or such terms under !, && and ||.
func isPlanted(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return e.Name == plantedConst
	case *ast.CallExpr:
		id, ok := ast.Unparen(e.Fun).(*ast.Ident)
		return ok && id.Name == plantedFunc
	case *ast.UnaryExpr:
		return e.Op == token.NOT && isPlanted(e.X)
	case *ast.BinaryExpr:
		return (e.Op == token.LAND || e.Op == token.LOR) && isPlanted(e.X) && isPlanted(e.Y)
	}
	return false
}

// needsPlanted reports whether cond can be true only if a planted bug is
// on: a call planted(...) is cond itself or one of its &&-conjuncts.
func needsPlanted(cond ast.Expr) bool {
	switch c := ast.Unparen(cond).(type) {
	case *ast.CallExpr:
		return isPlanted(c)
	case *ast.BinaryExpr:
		return c.Op == token.LAND && (needsPlanted(c.X) || needsPlanted(c.Y))
	}
	return false
}
