// Package mutation is nimsync's mutation-testing lane: it finds operator
// mutants in core's source ([Find]), applies them one at a time
// ([Mutant.Apply]), and counts what the harness did with each ([Report]).
// The command cmd/mutate builds every mutant out of tree, runs the chaos
// property suite and a chaos soak against it, and writes the report;
// scripts/mutation runs it.
//
// The operators are the standard token sets of gremlins (and PIT, whose
// names gremlins follows), plus three of our own:
//
//	CONDITIONALS_BOUNDARY  <  ↔ <=,  >  ↔ >=
//	CONDITIONALS_NEGATION  == ↔ !=,  <  ↔ >=,  <= ↔ >
//	ARITHMETIC_BASE        +  ↔ -,   *  ↔ /,   %  → *
//	INCREMENT_DECREMENT    ++ ↔ --
//	INVERT_ASSIGNMENTS     += ↔ -=,  *= ↔ /=
//	INVERT_LOGICAL         && ↔ ||
//	INVERT_BITWISE         &  ↔ |,   ^  → &,   &^ → &,  << ↔ >>
//	INVERT_LOOPCTRL        break ↔ continue
//	INVERT_NEGATIVES       -x → +x
//	REMOVE_NOT             !x → x              (ours: boolean negation)
//	BOOLEAN_LITERAL        true ↔ false        (ours)
//	REMOVE_CALL            a call statement is removed (ours): a wakeup,
//	                       a counter's Add, a cancel; never a Lock or
//	                       Unlock (a deadlock or a fatal error at once, which
//	                       measures nothing), a panic, or a failpoint call
//
// [DefaultOperators] are the first six and the last two: the comparisons,
// arithmetic, && and ||, boolean negation and call removal.
//
// Not mutated ([Find]): calls of package failpoint and everything inside
// them (the failpoint.Inject closures are chaos-only code), an if whose
// condition needs a planted bug to be true (`if x && planted(b) {...}`:
// the bug's branch; its else branch is mutated), the planted-bug operands
// of any other condition (planted(...), plantedBugs) and the `!` applied
// to them (no bug is on in a mutant's run; an `&&` or `||` beside them is
// mutated, as it changes the plain path), and array lengths in types
// (padding to a cache line, which changes no behaviour). Whole files are left out by the
// caller (cmd/mutate: failpoints.go, planted.go, the tuning tables, tests).
package mutation

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
)

// Operator names a mutation operator (see the package doc).
type Operator string

// The operators.
const (
	ConditionalsBoundary Operator = "CONDITIONALS_BOUNDARY"
	ConditionalsNegation Operator = "CONDITIONALS_NEGATION"
	ArithmeticBase       Operator = "ARITHMETIC_BASE"
	IncrementDecrement   Operator = "INCREMENT_DECREMENT"
	InvertAssignments    Operator = "INVERT_ASSIGNMENTS"
	InvertLogical        Operator = "INVERT_LOGICAL"
	InvertBitwise        Operator = "INVERT_BITWISE"
	InvertLoopCtrl       Operator = "INVERT_LOOPCTRL"
	InvertNegatives      Operator = "INVERT_NEGATIVES"
	RemoveNot            Operator = "REMOVE_NOT"
	BooleanLiteral       Operator = "BOOLEAN_LITERAL"
	RemoveCall           Operator = "REMOVE_CALL"
)

// Operators lists every operator, in the order mutants of one position
// are reported.
var Operators = []Operator{
	ConditionalsBoundary, ConditionalsNegation, ArithmeticBase, IncrementDecrement,
	InvertAssignments, InvertLogical, InvertBitwise, InvertLoopCtrl,
	InvertNegatives, RemoveNot, BooleanLiteral, RemoveCall,
}

// DefaultOperators are the operators a lane runs unless told otherwise.
var DefaultOperators = []Operator{
	ConditionalsBoundary, ConditionalsNegation, ArithmeticBase, IncrementDecrement,
	InvertAssignments, InvertLogical, RemoveNot, RemoveCall,
}

// tokenOps maps each operator of the token kind to its replacements, as
// gremlins' tables do.
var tokenOps = map[Operator]map[token.Token]token.Token{
	ConditionalsBoundary: {token.LSS: token.LEQ, token.LEQ: token.LSS, token.GTR: token.GEQ, token.GEQ: token.GTR},
	ConditionalsNegation: {
		token.EQL: token.NEQ, token.NEQ: token.EQL, token.LSS: token.GEQ,
		token.GEQ: token.LSS, token.GTR: token.LEQ, token.LEQ: token.GTR,
	},
	ArithmeticBase:     {token.ADD: token.SUB, token.SUB: token.ADD, token.MUL: token.QUO, token.QUO: token.MUL, token.REM: token.MUL},
	IncrementDecrement: {token.INC: token.DEC, token.DEC: token.INC},
	InvertAssignments: {
		token.ADD_ASSIGN: token.SUB_ASSIGN, token.SUB_ASSIGN: token.ADD_ASSIGN,
		token.MUL_ASSIGN: token.QUO_ASSIGN, token.QUO_ASSIGN: token.MUL_ASSIGN,
	},
	InvertLogical: {token.LAND: token.LOR, token.LOR: token.LAND},
	InvertBitwise: {
		token.AND: token.OR, token.OR: token.AND, token.XOR: token.AND,
		token.AND_NOT: token.AND, token.SHL: token.SHR, token.SHR: token.SHL,
	},
	InvertLoopCtrl: {token.BREAK: token.CONTINUE, token.CONTINUE: token.BREAK},
}

// ParseOperators parses a comma-separated list of operator names ("all"
// for every one, "default" for [DefaultOperators]).
func ParseOperators(s string) ([]Operator, error) {
	var ops []Operator
	for _, name := range strings.Split(s, ",") {
		name = strings.ToUpper(strings.TrimSpace(name))
		switch {
		case name == "ALL":
			ops = append(ops, Operators...)
		case name == "DEFAULT":
			ops = append(ops, DefaultOperators...)
		case slices.Contains(Operators, Operator(name)):
			ops = append(ops, Operator(name))
		default:
			return nil, fmt.Errorf("unknown operator %q (want one of %v, all or default)", name, Operators)
		}
	}
	slices.Sort(ops)
	return slices.Compact(ops), nil
}

// Mutant is one operator applied at one place of one file: the bytes
// [Offset, Offset+Len) of the file become To (or blanks, for a removed
// call).
type Mutant struct {
	File     string   `json:"file"` // slash-separated, relative to the module root
	Line     int      `json:"line"`
	Col      int      `json:"col"`
	Func     string   `json:"func"` // the enclosing function ("Type.Method"), or "-"
	Op       Operator `json:"operator"`
	From     string   `json:"from"`      // the source text replaced
	To       string   `json:"to"`        // what replaces it ("" for a removed call)
	Offset   int      `json:"offset"`    // in bytes
	Len      int      `json:"len"`       // bytes replaced: len(From), or a removed call's whole text
	LineText string   `json:"line_text"` // the mutated line, trimmed, spaces collapsed
	// Key names the mutant independently of line numbers: file, function,
	// operator, the change, the line's text and an index among mutants
	// alike in all of those. The equivalents list refers to mutants by key.
	Key string `json:"key"`
}

// Where is the mutant's file:line.
func (m Mutant) Where() string { return fmt.Sprintf("%s:%d", m.File, m.Line) }

// Change describes the mutation in a few characters, e.g. "< → <=" or
// "remove q.wake(1)".
func (m Mutant) Change() string {
	if m.Op == RemoveCall {
		return "remove " + m.From
	}
	return m.From + " → " + m.To
}

// Apply returns src with the mutation applied. It fails if src does not
// hold From at Offset (the file changed since Find). A removed call's text
// becomes blanks, so that every other line keeps its number.
func (m Mutant) Apply(src []byte) ([]byte, error) {
	end := m.Offset + m.Len
	if m.Offset < 0 || m.Len < len(m.From) || end > len(src) || !bytes.HasPrefix(src[m.Offset:end], []byte(m.From)) {
		return nil, fmt.Errorf("mutation: %s: the source does not hold %q at offset %d", m.Where(), m.From, m.Offset)
	}
	to := []byte(m.To)
	if m.Op == RemoveCall {
		to = bytes.Map(func(r rune) rune {
			if r == '\n' {
				return r
			}
			return ' '
		}, src[m.Offset:end])
	}
	out := make([]byte, 0, len(src)+len(to))
	out = append(out, src[:m.Offset]...)
	out = append(out, to...)
	return append(out, src[end:]...), nil
}

// Find returns the mutants of the Go source src (named file, slash path
// relative to the module root) for the given operators, in source order,
// leaving out the regions the package doc lists.
func Find(file string, src []byte, ops []Operator) ([]Mutant, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	x := exclusions(f)
	want := map[Operator]bool{}
	for _, op := range ops {
		want[op] = true
	}
	var out []Mutant
	add := func(pos token.Pos, op Operator, from, to string) {
		if !want[op] || x.covers(pos) {
			return
		}
		p := fset.Position(pos)
		out = append(out, Mutant{File: file, Line: p.Line, Col: p.Column, Op: op, From: from, To: to, Offset: p.Offset, Len: len(from)})
	}
	addToken := func(pos token.Pos, tok token.Token) {
		for _, op := range Operators {
			if to, ok := tokenOps[op][tok]; ok {
				add(pos, op, tok.String(), to.String())
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if n.Op == token.ADD && (isString(n.X) || isString(n.Y)) {
				break // string concatenation: - would not compile
			}
			addToken(n.OpPos, n.Op)
		case *ast.IncDecStmt:
			addToken(n.TokPos, n.Tok)
		case *ast.AssignStmt:
			addToken(n.TokPos, n.Tok)
		case *ast.BranchStmt:
			addToken(n.TokPos, n.Tok)
		case *ast.UnaryExpr:
			switch n.Op {
			case token.NOT:
				add(n.OpPos, RemoveNot, "!", "")
			case token.SUB:
				add(n.OpPos, InvertNegatives, "-", "+")
			}
		case *ast.Ident:
			if n.Obj == nil && (n.Name == "true" || n.Name == "false") {
				add(n.Pos(), BooleanLiteral, n.Name, map[string]string{"true": "false", "false": "true"}[n.Name])
			}
		case *ast.ExprStmt:
			if call, ok := ast.Unparen(n.X).(*ast.CallExpr); ok && removable(call) {
				start, end := fset.Position(n.Pos()).Offset, fset.Position(n.End()).Offset
				text := string(src[start:end])
				if !want[RemoveCall] || x.covers(n.Pos()) {
					break
				}
				p := fset.Position(n.Pos())
				from := text
				if i := strings.IndexByte(from, '\n'); i >= 0 {
					from = from[:i] // a call over several lines: its first line stands for it
				}
				out = append(out, Mutant{File: file, Line: p.Line, Col: p.Column, Op: RemoveCall,
					From: from, Offset: p.Offset, Len: len(text)})
			}
		}
		return true
	})
	sortMutants(out)
	finish(f, fset, src, out)
	return out, nil
}

// finish fills in each mutant's function, line text and key.
func finish(f *ast.File, fset *token.FileSet, src []byte, ms []Mutant) {
	tf := fset.File(f.Pos())
	seen := map[string]int{}
	for i := range ms {
		m := &ms[i]
		m.Func = "-"
		pos := tf.Pos(m.Offset)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= pos && pos < fd.End() {
				m.Func = funcName(fd)
			}
		}
		m.LineText = lineText(src, m.Offset)
		base := strings.Join([]string{m.File, m.Func, string(m.Op), m.From + "→" + m.To, m.LineText}, "|")
		m.Key = fmt.Sprintf("%s#%d", base, seen[base])
		seen[base]++
	}
}

// funcName is "Recv.Name" for a method (pointer and type parameters
// dropped), else the function's name.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	for {
		switch tt := t.(type) {
		case *ast.StarExpr:
			t = tt.X
			continue
		case *ast.IndexExpr:
			t = tt.X
			continue
		case *ast.IndexListExpr:
			t = tt.X
			continue
		case *ast.Ident:
			return tt.Name + "." + fd.Name.Name
		}
		return fd.Name.Name
	}
}

// lineText is the line of src holding offset, trimmed, with every run of
// white space made one space.
func lineText(src []byte, offset int) string {
	lo := bytes.LastIndexByte(src[:offset], '\n') + 1
	hi := bytes.IndexByte(src[offset:], '\n')
	if hi < 0 {
		hi = len(src)
	} else {
		hi += offset
	}
	return strings.Join(strings.Fields(string(src[lo:hi])), " ")
}

func isString(e ast.Expr) bool {
	lit, ok := ast.Unparen(e).(*ast.BasicLit)
	return ok && lit.Kind == token.STRING
}

// removable reports whether REMOVE_CALL may remove a statement calling
// call: not a lock operation, a panic or a failpoint call.
func removable(call *ast.CallExpr) bool {
	switch fn := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		return fn.Name != "panic"
	case *ast.SelectorExpr:
		switch fn.Sel.Name {
		case "Lock", "Unlock", "RLock", "RUnlock":
			return false
		}
		return !isFailpoint(call)
	}
	return true
}
