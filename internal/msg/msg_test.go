package msg

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// verbs lists the arguments a format uses, as argument number and verb,
// in order of argument: "%[2]s %d" uses 1 as d... reordered formats give
// the same list as the English.
func verbs(format string) ([]string, error) {
	used := map[int]string{}
	arg := 1
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}
		for i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0 {
			i++
		}
		if i < len(format) && format[i] == '[' {
			end := strings.IndexByte(format[i:], ']')
			if end < 0 {
				return nil, errors.New("unclosed [")
			}
			n, err := strconv.Atoi(format[i+1 : i+end])
			if err != nil {
				return nil, err
			}
			arg = n
			i += end + 1
		}
		for i < len(format) && (format[i] >= '0' && format[i] <= '9' || format[i] == '.') {
			i++
		}
		if i >= len(format) {
			return nil, errors.New("format ends in a verb")
		}
		v := string(format[i])
		if v == "w" {
			v = "v" // T prints %w as %v
		}
		if prev, ok := used[arg]; ok && prev != v {
			return nil, errors.New("argument " + strconv.Itoa(arg) + " used as %" + prev + " and %" + v)
		}
		used[arg] = v
		arg++
	}
	var list []string
	for _, n := range slices.Sorted(maps.Keys(used)) {
		list = append(list, strconv.Itoa(n)+used[n])
	}
	return list, nil
}

// placeholders lists the {name}s a text filled in by name has, sorted.
func placeholders(s string) []string {
	names := placeholder.FindAllString(s, -1)
	slices.Sort(names)
	return slices.Compact(names)
}

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// verb matches a format's verbs, which are no words to translate.
var verb = regexp.MustCompile(`%[-+# 0]*(\[\d+\])?[\d.]*[a-zA-Z%]`)

// TestTableArguments: each Chinese text takes the English one's arguments,
// and has words of its own where the English has any.
func TestTableArguments(t *testing.T) {
	for en, zh := range zhTW {
		want, err := verbs(en)
		if err != nil {
			t.Errorf("%q: %v", en, err)
			continue
		}
		got, err := verbs(zh)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q takes %v, its Chinese %q %v (%v)", en, want, zh, got, err)
		}
		if want, got := placeholders(en), placeholders(zh); !slices.Equal(got, want) {
			t.Errorf("%q fills in %v, its Chinese %q %v", en, want, zh, got)
		}
		words := verb.ReplaceAllString(en, "")
		if zh == "" || zh == en && strings.ContainsFunc(words, func(r rune) bool { return r >= 'a' && r <= 'z' }) {
			t.Errorf("%q has no Chinese text", en)
		}
	}
}

// messageFuncs are the calls whose first string argument (second for
// Fprintf) is a message: any other call of that name is not ours.
var messageFuncs = map[string]int{"T": 0, "Fprintf": 1, "Errorf": 0, "New": 0, "N": 0}

// TestEveryMessageInTable: every message feedgen formats, in all of its
// Go files, has its Chinese text, and the table has no text that is no
// longer said.
func TestEveryMessageInTable(t *testing.T) {
	root := filepath.Join("..", "..")
	said := map[string]string{} // message: where
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		imported := false
		for _, imp := range f.Imports {
			imported = imported || strings.HasSuffix(imp.Path.Value, `/internal/msg"`)
		}
		if !imported && f.Name.Name != "msg" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fun := call.Fun.(type) {
			case *ast.SelectorExpr:
				if x, ok := fun.X.(*ast.Ident); ok && (x.Name == "fmt" || x.Name == "errors") {
					return true
				}
				if x, ok := fun.X.(*ast.Ident); ok && x.Name != "msg" && fun.Sel.Name != "T" && fun.Sel.Name != "Fprintf" {
					return true // pkg.New, pkg.Errorf of another package
				}
				name = fun.Sel.Name
			case *ast.Ident:
				if f.Name.Name != "msg" {
					return true
				}
				name = fun.Name
			default:
				return true
			}
			i, ok := messageFuncs[name]
			if !ok || len(call.Args) <= i {
				return true
			}
			if s, ok := constant(call.Args[i]); ok {
				said[s] = fset.Position(call.Pos()).String()
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for s, where := range said {
		if _, ok := zhTW[s]; !ok {
			t.Errorf("%s: %q has no Chinese text in zh_tw.go", where, s)
		}
	}
	for s := range zhTW {
		if _, ok := said[s]; !ok {
			t.Errorf("zh_tw.go: %q is said nowhere; remove it", s)
		}
	}
}

// constant is the string a literal, or a sum of literals, spells.
func constant(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := constant(e.X)
		b, ok2 := constant(e.Y)
		return a + b, ok1 && ok2
	case *ast.ParenExpr:
		return constant(e.X)
	}
	return "", false
}

// TestText: an error made of messages says itself in Chinese all the way
// down, and stays the English error errors.Is and logs see.
func TestText(t *testing.T) {
	zhTW["test: read %s: %w"] = "測試：讀取 %s：%w"
	zhTW["test: no products"] = "測試：沒有商品"
	defer delete(zhTW, "test: read %s: %w")
	defer delete(zhTW, "test: no products")
	inner := New("test: no products")
	err := Errorf("test: read %s: %w", "商品.xlsx", inner)
	if !errors.Is(err, inner) {
		t.Error("errors.Is does not find the wrapped error")
	}
	if got, want := err.Error(), "test: read 商品.xlsx: test: no products"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := Text(Chinese, err), "測試：讀取 商品.xlsx：測試：沒有商品"; got != want {
		t.Errorf("Text(Chinese) = %q, want %q", got, want)
	}
	foreign := Errorf("test: read %s: %w", "x", fs.ErrNotExist)
	if got, want := Text(Chinese, foreign), "測試：讀取 x："+fs.ErrNotExist.Error(); got != want {
		t.Errorf("Text(Chinese) of a foreign cause = %q, want %q", got, want)
	}
	joined := errors.Join(inner, os.ErrClosed)
	if got, want := Text(Chinese, joined), "測試：沒有商品\n"+os.ErrClosed.Error(); got != want {
		t.Errorf("Text(Chinese) of joined errors = %q, want %q", got, want)
	}
	if got, want := Chinese.T("test: read %s: %w", word("the file"), inner), "測試：讀取 檔案：測試：沒有商品"; got != want {
		t.Errorf("a Localizer argument: %q, want %q", got, want)
	}
	if got, want := Text(Chinese, fmt.Errorf("push to %s: %w", "x", inner)), "push to x: 測試：沒有商品"; got != want {
		t.Errorf("a foreign wrapper of ours = %q, want %q", got, want)
	}
	twice := fmt.Errorf("push to %s: %w: %w", "x", inner, os.ErrClosed)
	if got := Text(Chinese, twice); got != twice.Error() {
		t.Errorf("a foreign wrapper of two = %q, want its own words, %q", got, twice.Error())
	}
	if got := Chinese.T("100%%w and %w", inner); got != "100%w and 測試：沒有商品" {
		t.Errorf("%%%%w = %q, want it left a percent sign and a w", got)
	}
	if got := Chinese.T("not in the table %d", 3); got != "not in the table 3" {
		t.Errorf("a message not in the table = %q, want its English", got)
	}
}

func TestParse(t *testing.T) {
	tests := map[string]Lang{
		"zh-TW": Chinese, "zh_TW": Chinese, "zh-Hant": Chinese, "zh-Hant-TW": Chinese, "zh-HK": Chinese,
		"zh": Chinese, "zh-CN": Chinese, "en": English, "en-US": English, "en_GB.UTF-8": English, "zh_TW.UTF-8": Chinese,
	}
	for in, want := range tests {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "C", "klingon!", "中文", "tw", "ja", "fr"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q): no error", in)
		}
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want Lang
		ok   bool
	}{
		{map[string]string{"LANG": "zh_TW.UTF-8"}, Chinese, true},
		{map[string]string{"LANG": "zh_TW.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, English, true},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_ALL": "zh_TW.Big5"}, Chinese, true},
		{map[string]string{"LC_ALL": "C", "LANG": "zh_TW.UTF-8"}, English, false},
		{map[string]string{}, English, false},
	}
	for _, tt := range tests {
		got, ok := FromEnv(func(k string) string { return tt.env[k] })
		if got != tt.want || ok != tt.ok {
			t.Errorf("FromEnv(%v) = %v, %v; want %v, %v", tt.env, got, ok, tt.want, tt.ok)
		}
	}
}

// word is a Localizer argument, as feedgen's nouns are.
type word string

func (w word) Text(l Lang) string {
	if l == Chinese && w == "the file" {
		return "檔案"
	}
	return string(w)
}
