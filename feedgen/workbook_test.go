package feedgen

import "testing"

func TestWorkbookMatchesExcelize(t *testing.T) {
	for name, data := range map[string][]byte{
		"stream": streamWorkbook(t, mixedRows()),
		"shared": sharedWorkbook(t, mixedRows()),
	} {
		t.Run(name, func(t *testing.T) {
			want, err := excelizeRows(data, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := readerRows(data, "")
			if err != nil {
				t.Fatal(err)
			}
			if d := diffRows(want, got); d != "" {
				t.Error(d)
			}
		})
	}
}
