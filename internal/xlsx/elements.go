package xlsx

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// Element local names the readers act on.
type elemName uint8

const (
	elOther elemName = iota
	elRow
	elC
	elV
	elF
	elIs
	elT
	elR
	elRPr
	elRPh
	elPhoneticPr
	elSheetData
	elSi
)

func elemOf(local []byte) elemName {
	switch string(local) {
	case "row":
		return elRow
	case "c":
		return elC
	case "v":
		return elV
	case "f":
		return elF
	case "is":
		return elIs
	case "t":
		return elT
	case "r":
		return elR
	case "rPr":
		return elRPr
	case "rPh":
		return elRPh
	case "phoneticPr":
		return elPhoneticPr
	case "sheetData":
		return elSheetData
	case "si":
		return elSi
	}
	return elOther
}

// Elements that must not occur inside an element that is skipped: excelize
// walks worksheet tokens without regard to nesting, so it would read such
// an element as a row, cell or value where this reader would not.
const (
	forbidInHeader = 1<<elRow | 1<<elSheetData
	forbidInData   = 1<<elRow | 1<<elC | 1<<elSheetData
	forbidInCell   = forbidInData | 1<<elV | 1<<elF | 1<<elIs
)

// skipContent skips the content and end tag of the element whose start tag
// t ends at j, checking that it is well-formed and holds no forbidden
// element.
func (p *xmlParser) skipContent(t tag, j int, forbid uint32) (int, error) {
	if t.empty {
		return j, nil
	}
	b := p.b
	p.stack = append(p.stack[:0], span{t.qs, t.qe})
	for len(p.stack) > 0 {
		var err error
		if j, err = p.text(j, nil); err != nil {
			return j, err
		}
		if j+1 >= len(b) {
			return j, errMore
		}
		switch b[j+1] {
		case '/':
			top := p.stack[len(p.stack)-1]
			if j, err = p.endTag(j, b[top.s:top.e]); err != nil {
				return j, err
			}
			p.stack = p.stack[:len(p.stack)-1]
		case '!', '?':
			if j, err = p.misc(j, nil); err != nil {
				return j, err
			}
		default:
			c, k, err := p.startTag(j)
			if err != nil {
				return j, err
			}
			if forbid&(1<<elemOf(b[c.ls:c.qe])) != 0 {
				return j, p.fail(j, "unexpected <%s> inside <%s>", b[c.qs:c.qe], b[t.qs:t.qe])
			}
			if !c.empty {
				if len(p.stack) == maxDepth {
					return j, p.fail(j, "elements nested too deeply")
				}
				p.stack = append(p.stack, span{c.qs, c.qe})
			}
			j = k
		}
	}
	return j, nil
}

// collect appends the text of the element whose start tag t ends at j to
// p.val. Values hold only text, so a child element is an error.
func (p *xmlParser) collect(t tag, j int) (int, error) {
	if t.empty {
		return j, nil
	}
	b := p.b
	for {
		var err error
		if j, err = p.text(j, &p.val); err != nil {
			return j, err
		}
		if j+1 >= len(b) {
			return j, errMore
		}
		switch b[j+1] {
		case '/':
			return p.endTag(j, b[t.qs:t.qe])
		case '!', '?':
			if j, err = p.misc(j, &p.val); err != nil {
				return j, err
			}
		default:
			return j, p.fail(j, "unexpected element inside <%s>", b[t.qs:t.qe])
		}
	}
}

// children calls f for each child element of the element whose start tag t
// ends at j, skipping text and comments, and returns the end of the
// element. f receives the child's start tag, where it ends and the local
// name, and returns the end of the child.
func (p *xmlParser) children(t tag, j int, f func(c tag, k int, name elemName) (int, error)) (int, error) {
	if t.empty {
		return j, nil
	}
	b := p.b
	for {
		var err error
		if j < len(b) && b[j] != '<' {
			if j, err = p.text(j, nil); err != nil {
				return j, err
			}
		}
		if j+1 >= len(b) {
			return j, errMore
		}
		switch b[j+1] {
		case '/':
			return p.endTag(j, b[t.qs:t.qe])
		case '!', '?':
			if j, err = p.misc(j, nil); err != nil {
				return j, err
			}
		default:
			c, k, err := p.startTag(j)
			if err != nil {
				return j, err
			}
			if j, err = f(c, k, elemOf(b[c.ls:c.qe])); err != nil {
				return j, err
			}
		}
	}
}

// stringItem appends the text of a string item (<si> or <is>) to p.val as
// excelize reads it: the text of <t>, then of each run's <t>, without the
// phonetic runs. Its typed attributes are checked because excelize fails to
// read the cell or table when one does not parse.
func (p *xmlParser) stringItem(t tag, j int) (int, error) {
	seenT, seenR := false, false
	return p.children(t, j, func(c tag, k int, name elemName) (int, error) {
		switch name {
		case elT:
			if seenT || seenR {
				return k, p.fail(c.qs, "unexpected <%s> in a string", p.b[c.qs:c.qe])
			}
			seenT = true
			return p.collect(c, k)
		case elR:
			seenR = true
			return p.run(c, k)
		case elRPh, elPhoneticPr:
			if err := p.checkTyped(c); err != nil {
				return k, err
			}
		}
		return p.skipContent(c, k, 0)
	})
}

// run appends the text of a rich-text run to p.val.
func (p *xmlParser) run(t tag, j int) (int, error) {
	seenT := false
	return p.children(t, j, func(c tag, k int, name elemName) (int, error) {
		switch name {
		case elT:
			if seenT {
				return k, p.fail(c.qs, "two <t> in one run")
			}
			seenT = true
			return p.collect(c, k)
		case elRPr:
			return p.children(c, k, func(prop tag, m int, _ elemName) (int, error) {
				if err := p.checkTyped(prop); err != nil {
					return m, err
				}
				return p.skipContent(prop, m, 0)
			})
		}
		return p.skipContent(c, k, 0)
	})
}

// Attribute types excelize unmarshals into, where a value that does not
// parse makes it drop data.
const (
	kindString = iota
	kindBool
	kindInt
	kindUint32
	kindFloat
)

// typedAttr returns the type excelize gives attribute name of element elem
// (formulas, phonetic runs and run properties).
func typedAttr(elem, name string) int {
	switch elem {
	case "f":
		switch name {
		case "aca", "dt2D", "dtr", "del1", "del2", "ca", "bx":
			return kindBool
		case "si":
			return kindInt
		}
	case "rPh":
		if name == "sb" || name == "eb" {
			return kindUint32
		}
	case "phoneticPr":
		if name == "fontId" {
			return kindInt
		}
	case "charset", "family":
		if name == "val" {
			return kindInt
		}
	case "b", "i", "strike", "outline", "shadow", "condense", "extend":
		if name == "val" {
			return kindBool
		}
	case "sz":
		if name == "val" {
			return kindFloat
		}
	case "color":
		switch name {
		case "auto":
			return kindBool
		case "indexed", "theme":
			return kindInt
		case "tint":
			return kindFloat
		}
	}
	return kindString
}

// checkTyped checks the typed attributes of t.
func (p *xmlParser) checkTyped(t tag) error {
	elem := string(p.b[t.ls:t.qe])
	for _, a := range p.attrs {
		kind := typedAttr(elem, string(p.b[a.ls:a.le]))
		if kind == kindString {
			continue
		}
		if v := p.attrValue(a); !validTyped(kind, v) {
			return p.fail(a.vs, "invalid value %q of %s in <%s>", v, p.b[a.qs:a.le], p.b[t.qs:t.qe])
		}
	}
	return nil
}

// validTyped accepts a subset of what encoding/xml parses into the type:
// empty, or the plain form without surrounding space.
func validTyped(kind int, v []byte) bool {
	if len(v) == 0 {
		return true
	}
	switch kind {
	case kindBool:
		_, err := strconv.ParseBool(string(v))
		return err == nil
	case kindInt:
		if v[0] == '-' || v[0] == '+' {
			v = v[1:]
		}
		return len(v) <= 18 && digits(v)
	case kindUint32:
		return len(v) <= 9 && digits(v)
	case kindFloat:
		_, err := strconv.ParseFloat(string(v), 64)
		return err == nil
	}
	return true
}

// digits reports whether v is one or more ASCII digits.
func digits(v []byte) bool {
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(v) > 0
}

// unescapeBSTR decodes, in place, the _xHHHH_ escapes with which Excel
// stores characters XML cannot hold, exactly as excelize's bstrUnmarshal
// does (which drops escaped surrogates).
func unescapeBSTR(b []byte) []byte {
	i := bytes.Index(b, []byte("_x"))
	if i < 0 {
		return b
	}
	w := i
	for i < len(b) {
		if b[i] == '_' && i+6 < len(b) && b[i+1] == 'x' && b[i+6] == '_' {
			if r, ok := hex4(b[i+2 : i+6]); ok {
				if r < 0xD800 || r > 0xDFFF {
					w += utf8.EncodeRune(b[w:], r)
				}
				i += 7
				continue
			}
		}
		b[w] = b[i]
		w++
		i++
	}
	return b[:w]
}

func hex4(h []byte) (rune, bool) {
	var r rune
	for _, c := range h {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
