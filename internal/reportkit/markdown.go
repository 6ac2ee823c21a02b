package reportkit

import (
	"regexp"
	"strings"
)

// MDCell makes s safe inside a Markdown table cell: no pipes, no line
// breaks.
func MDCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", " ")
}

// MDInline makes s safe as inline Markdown text on one line; "" is "—".
func MDInline(s string) string {
	if s == "" {
		return "—"
	}
	return strings.NewReplacer("\n", " ", "*", `\*`, "_", `\_`, "`", "\\`").Replace(s)
}

// MDCode wraps s in a code span, safe in a table cell, with a fence longer
// than any run of backticks inside it; "" is "—".
func MDCode(s string) string {
	if s == "" {
		return "—"
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + MDCell(s) + pad + fence
}

// FirstLine returns s up to its first newline, cut to at most n runes, with
// "…" appended when anything was dropped; surrounding space is trimmed.
func FirstLine(s string, n int) string {
	s = strings.TrimSpace(s)
	cut := false
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s, cut = strings.TrimSpace(s[:i]), true
	}
	if r := []rune(s); len(r) > n {
		s, cut = string(r[:n]), true
	}
	if cut {
		s += "…"
	}
	return s
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileStem turns a name into a safe file name stem: "Chan/topo=1p1c" →
// "Chan_topo_1p1c"; "" and names of nothing but unsafe characters give "_".
func FileStem(name string) string {
	s := strings.Trim(unsafeFileChars.ReplaceAllString(name, "_"), "._")
	if s == "" {
		s = "_"
	}
	return s
}
