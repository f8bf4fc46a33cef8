// Genexport writes product exports in the CYBERBIZ layout: the sample in
// testdata/ and large generated ones for benchmarks.
//
//	go run ./scripts/genexport -sample -o testdata/sample.xlsx
//	go run ./scripts/genexport -products 100000 [-shared] [-shuffle] [-hidden] -o big.xlsx
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"feedgen/internal/exportgen"
)

func main() {
	sample := flag.Bool("sample", false, "write the sample export")
	products := flag.Int("products", 10000, "number of products of a generated export")
	shared := flag.Bool("shared", false, "store text in a shared-string table instead of inline")
	shuffle := flag.Bool("shuffle", false, "write the rows in a random order, products' rows apart")
	hidden := flag.Bool("hidden", false, "make every product not public, with a short description")
	out := flag.String("o", "", "output `file`")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(*out, *sample, exportgen.BulkOptions{Products: *products, SharedStrings: *shared, Shuffle: *shuffle, Hidden: *hidden, Seed: 1}); err != nil {
		fmt.Fprintln(os.Stderr, "genexport:", err)
		os.Exit(1)
	}
}

func write(path string, sample bool, opt exportgen.BulkOptions) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if sample {
		err = exportgen.WriteSample(w, "商品", exportgen.SampleRows())
	} else {
		err = exportgen.WriteBulk(w, opt)
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
