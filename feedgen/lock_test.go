package feedgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"feedgen/internal/exportgen"
	"feedgen/internal/tempdir"
)

func TestLockFolder(t *testing.T) {
	dir := tempdir.New(t)
	unlock, err := lockFolder(dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a second writer waits a bounded time and says for whom", func(t *testing.T) {
		var told string
		_, err := lockFolder(dir, 300*time.Millisecond, func(h string) { told = h })
		var locked *LockedError
		if !errors.As(err, &locked) {
			t.Fatalf("lockFolder = %v, want a LockedError", err)
		}
		want := fmt.Sprintf("process %d", os.Getpid())
		if locked.holder == nil || !strings.Contains(locked.holder.String(), want) || !strings.Contains(told, want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("error %q (told %q) should name the folder and %s", err, told, want)
		}
	})
	t.Run("it gets the lock when the first lets go", func(t *testing.T) {
		time.AfterFunc(200*time.Millisecond, unlock)
		unlock2, err := lockFolder(dir, 5*time.Second, nil)
		if err != nil {
			t.Fatalf("lockFolder after release = %v", err)
		}
		unlock2()
	})
	t.Run("a waiter that gave up does not keep the lock", func(t *testing.T) {
		unlock, err := lockFolder(dir, time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lockFolder(dir, 150*time.Millisecond, nil); err == nil {
			t.Fatal("lockFolder while locked = nil")
		}
		unlock()
		unlock2, err := lockFolder(dir, 2*time.Second, nil)
		if err != nil {
			t.Fatalf("lockFolder after the quitter = %v", err)
		}
		unlock2()
	})
}

// TestLockOfKilledProcess: a process killed while holding the lock leaves
// it free for the next run.
func TestLockOfKilledProcess(t *testing.T) {
	if dir := os.Getenv("FEEDGEN_TEST_HOLD_LOCK"); dir != "" {
		if _, err := lockFolder(dir, time.Second, nil); err != nil {
			os.Exit(3)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	dir := tempdir.New(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockOfKilledProcess$")
	cmd.Env = append(os.Environ(), "FEEDGEN_TEST_HOLD_LOCK="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked" {
		t.Fatalf("helper said %q, %v", buf, err)
	}
	if _, err := lockFolder(dir, 200*time.Millisecond, nil); err == nil {
		t.Fatal("the lock was free while the helper held it")
	}
	cmd.Process.Kill()
	cmd.Wait()
	unlock, err := lockFolder(dir, 5*time.Second, nil)
	if err != nil {
		t.Fatalf("lockFolder after the holder was killed = %v", err)
	}
	unlock()
}

// TestConcurrentRuns: runs of two different exports into one folder, at
// the same time, leave the whole catalog of one of them, never a mix.
func TestConcurrentRuns(t *testing.T) {
	dir := tempdir.New(t)
	small := filepath.Join(tempdir.New(t), "small.xlsx")
	f, err := os.Create(small)
	if err != nil {
		t.Fatal(err)
	}
	// The sample without its first two products.
	rows := exportgen.SampleRows()
	if err := exportgen.WriteSample(f, "商品", append(rows[:1:1], rows[4:]...)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for round := range 4 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, export := range []string{sampleExport, small} {
			wg.Go(func() {
				cfg := sampleConfig(t, dir)
				cfg.Export = export
				_, errs[i] = Run(context.Background(), cfg, RunOptions{At: exportgen.SampleAt, Force: true})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		m := checkGeneration(t, dir)
		xml, js := m.entryOf("catalog.xml"), m.entryOf("products.json")
		if xml == nil || js == nil {
			t.Fatalf("round %d: manifest %+v lacks a feed", round, m)
		}
		// The sample gives 8 items and 5 products; each export's pair is
		// its own.
		pair := [2]int{xml.Items, js.Items}
		if pair != [2]int{8, 5} && (pair[0] == 8 || pair[1] == 5) {
			t.Errorf("round %d: catalog.xml has %d items and products.json %d products: files of two exports", round, xml.Items, js.Items)
		}
	}
}

func TestPrepareFolderRemovesLeftovers(t *testing.T) {
	dir := tempdir.New(t)
	files := []string{
		".catalog.xml.tmp-111",         // a killed run's: removed
		".products.json.gz.tmp-222",    // a killed run's: removed
		".feedgen-commit.json.tmp-333", // a killed run's: removed
		".notes.txt.tmp-draft",         // not os.CreateTemp's: kept
		"catalog.xml.tmp-555",          // not hidden: kept
		"catalog.xml",
	}
	for _, name := range files {
		writeFile(t, filepath.Join(dir, name), []byte("partial"))
	}
	recovered, removed, freed, err := prepareFolder(dir)
	if err != nil || recovered || removed != 3 || freed != 3*int64(len("partial")) {
		t.Errorf("prepareFolder = %v, %d, %d, %v; want false, 3, 21, nil", recovered, removed, freed, err)
	}
	want := []string{".notes.txt.tmp-draft", "catalog.xml", "catalog.xml.tmp-555"}
	if got := names(snapshot(t, dir)); !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
}
