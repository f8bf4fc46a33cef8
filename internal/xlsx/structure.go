package xlsx

import (
	"bufio"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"strconv"
	"strings"

	"feedgen/internal/msg"
)

// Relationship types are matched on their last segment, which transitional
// and strict OOXML share.
func relKind(typ string) string { return typ[strings.LastIndexByte(typ, '/')+1:] }

type relationship struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
	Mode   string `xml:"TargetMode,attr"`
}

// readStructure locates the workbook part, its sheets and shared strings.
func (wb *Workbook) readStructure() error {
	wbPart := "xl/workbook.xml"
	if _, ok := wb.parts["_rels/.rels"]; ok {
		rels, err := wb.readRels("_rels/.rels", "")
		if err != nil {
			return err
		}
		for _, r := range rels {
			if relKind(r.Type) == "officeDocument" {
				wbPart = r.Target
				break
			}
		}
	}
	if wb.parts[wbPart] == nil {
		if err := wb.foreignPackage(); err != nil {
			return err
		}
		return msg.Errorf("%w: the package has no %s; the download may be incomplete", ErrCorrupt, wbPart)
	}
	var doc struct {
		XMLName    xml.Name
		WorkbookPr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Name  string     `xml:"name,attr"`
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := wb.decodePart(wbPart, &doc); err != nil {
		return err
	}
	if doc.XMLName.Local != "workbook" {
		return msg.Errorf("%w: %s has root <%s>, want <workbook>", ErrCorrupt, wbPart, doc.XMLName.Local)
	}
	if v := strings.TrimSpace(doc.WorkbookPr.Date1904); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return msg.Errorf("%w: %s: invalid date1904 %q", ErrCorrupt, wbPart, v)
		}
		wb.date1904 = b
	}
	dir := path.Dir(wbPart)
	relsPart := path.Join(dir, "_rels", path.Base(wbPart)+".rels")
	var rels []relationship
	if _, ok := wb.parts[relsPart]; ok {
		var err error
		if rels, err = wb.readRels(relsPart, dir); err != nil {
			return err
		}
	}
	byID := make(map[string]relationship, len(rels))
	for _, r := range rels {
		byID[r.ID] = r
		if relKind(r.Type) == "sharedStrings" && wb.sstPart == "" {
			wb.sstPart = r.Target
		}
	}
	if wb.sstPart == "" && wb.parts["xl/sharedstrings.xml"] != nil {
		wb.sstPart = "xl/sharedstrings.xml"
	}
	for _, s := range doc.Sheets {
		e := sheetEntry{name: s.Name, kind: "worksheet"}
		for _, a := range s.Attrs {
			if a.Name.Local == "id" && a.Name.Space != "" {
				if r, ok := byID[a.Value]; ok {
					e.part, e.kind = r.Target, relKind(r.Type)
				}
			}
		}
		for _, o := range wb.sheets {
			if strings.EqualFold(o.name, e.name) {
				return msg.Errorf("%w: two sheets are named %q", ErrCorrupt, e.name)
			}
		}
		wb.sheets = append(wb.sheets, e)
	}
	return nil
}

// readRels reads a relationships part and resolves its internal targets
// against dir, the folder of the part the relationships belong to.
func (wb *Workbook) readRels(name, dir string) ([]relationship, error) {
	var doc struct {
		Rels []relationship `xml:"Relationship"`
	}
	if err := wb.decodePart(name, &doc); err != nil {
		return nil, err
	}
	rels := doc.Rels[:0]
	for _, r := range doc.Rels {
		if strings.EqualFold(r.Mode, "External") {
			continue
		}
		t := strings.ReplaceAll(r.Target, `\`, "/")
		if !strings.HasPrefix(t, "/") {
			t = path.Join("/", dir, t)
		}
		r.Target = partKey(path.Clean(t))
		rels = append(rels, r)
	}
	return rels, nil
}

// decodePart unmarshals a small XML part with encoding/xml, then reads the
// part to its end so that archive/zip verifies its checksum.
func (wb *Workbook) decodePart(name string, v any) error {
	rc, err := wb.parts[name].Open()
	if err != nil {
		return failure(name, opening, wb.src.failure(err))
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	var in io.Reader = br
	head, _ := br.Peek(4)
	dec := utf16Decoder(head)
	if dec != nil {
		in = dec.Reader(br)
	}
	d := xml.NewDecoder(in)
	var charsetErr error
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if dec != nil && isUTF16(label) {
			return r, nil
		}
		charsetErr = msg.Errorf("unsupported encoding %q; only UTF-8 and UTF-16 are read", label)
		return nil, charsetErr
	}
	err = d.Decode(v)
	if charsetErr != nil {
		return failure(name, reading, charsetErr)
	}
	if err == nil {
		_, err = io.Copy(io.Discard, in)
	}
	var syntax *xml.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax) || err == io.EOF:
		return failure(name, reading, err)
	}
	return failure(name, reading, wb.src.failure(err))
}
