package feedgen

import (
	"encoding/json"
	"feedgen/internal/msg"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/lockedfile"
)

// A run holds its output folder's lock from before it reads the export
// until it has published, so that two writers — two runs, a run beside the
// daemon, two daemons — never interleave their files. The lock is the
// operating system's (flock, LockFileEx): a process that dies releases it,
// so a lock left by a killed run is simply taken. Who holds it is written
// beside it, for the message of the run that waits.
const lockFile = ".feedgen.lock"

// lockWait is how long a run waits for another to finish; tests shorten it.
var lockWait = 5 * time.Minute

// holder says who holds a folder's lock.
type holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

func (h holder) String() string { return h.Text(msg.English) }

// Text says who holds the lock, in l.
func (h holder) Text(l msg.Lang) string {
	return l.T("%s (process %d on %s, since %s)", h.Command, h.PID, h.Host, h.Since.Format("2006-01-02 15:04:05"))
}

// LockedError is a lock another feedgen kept for longer than a run waits.
type LockedError struct {
	Doing  error // what the holder does under the lock, as a message: "writing to 「public」"
	Waited time.Duration

	holder *holder // who holds it, nil when it did not say
}

func (e *LockedError) Error() string { return e.Text(msg.English) }

// Text is the error in l.
func (e *LockedError) Text(l msg.Lang) string {
	doing := msg.Text(l, e.Doing)
	if e.holder == nil {
		return l.T("another feedgen is still %s after %s of waiting", doing, e.Waited.Round(time.Second))
	}
	return l.T("another feedgen %s is still %s after %s of waiting", e.holder.Text(l), doing, e.Waited.Round(time.Second))
}

// lockFolder takes dir's lock, waiting up to wait for another holder, and
// returns the function that releases it. waiting, when set, hears that it
// waits and for whom.
func lockFolder(dir string, wait time.Duration, waiting func(holder string)) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, msg.Errorf("create output folder: %w", err)
	}
	return lockAt(filepath.Join(dir, lockFile), msg.Errorf("writing to %s", DisplayPath(dir)), wait, waiting)
}

// lockAt takes the lock of the file name, as lockFolder does; doing says
// what its holder does (a message: writing to 「public」), for the error
// of a run that gives up waiting. Who holds it is written to
// name+".holder".
func lockAt(name string, doing error, wait time.Duration, waiting func(holder string)) (unlock func(), err error) {
	holderName := name + ".holder"
	mu := lockedfile.MutexAt(name)
	type result struct {
		unlock func()
		err    error
	}
	// Unbuffered, so that a lock that comes after the waiter gave up is
	// not left in the channel but released.
	got := make(chan result)
	gaveUp := make(chan struct{})
	go func() {
		unlock, err := mu.Lock()
		select {
		case got <- result{unlock, err}:
		case <-gaveUp:
			// The waiter left; a lock taken after that is nobody's.
			if err == nil {
				unlock()
			}
		}
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var r result
	select {
	case r = <-got:
	case <-time.After(100 * time.Millisecond):
		if waiting != nil {
			var who string
			if h := readHolder(holderName); h != nil {
				who = h.String()
			}
			waiting(who)
		}
		select {
		case r = <-got:
		case <-timer.C:
			close(gaveUp)
			// The lock may have come in the same moment.
			select {
			case r = <-got:
			default:
				return nil, &LockedError{Doing: doing, Waited: wait, holder: readHolder(holderName)}
			}
		}
	}
	if r.err != nil {
		return nil, msg.Errorf("lock %s: %w", DisplayPath(name), r.err)
	}
	writeHolder(holderName)
	return func() {
		os.Remove(holderName)
		r.unlock()
	}, nil
}

func writeHolder(name string) {
	host, _ := os.Hostname()
	b, _ := json.Marshal(holder{PID: os.Getpid(), Host: host, Command: commandLine(), Since: time.Now()})
	// Best effort: the note only makes a waiting run's message better.
	_ = os.WriteFile(name, b, 0o644)
}

// readHolder is who holds the lock, nil when the note does not say.
func readHolder(name string) *holder {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	var h holder
	if json.Unmarshal(b, &h) != nil || h.PID == 0 {
		return nil
	}
	return &h
}

// commandLine is "feedgen run" or "feedgen daemon": the program's name and
// its subcommand, without the flags, which may hold secrets.
func commandLine() string {
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		return name + " " + os.Args[1]
	}
	return name
}

// prepareFolder makes dir ready for a run, under its lock: it finishes a
// commit an interrupted run began and removes what killed runs left. It
// returns what it did, for the log.
func prepareFolder(dir string) (recovered bool, removed int, freed int64, err error) {
	if recovered, err = recoverCommit(dir); err != nil {
		return recovered, 0, 0, err
	}
	removed, freed = removeLeftovers(dir)
	return recovered, removed, freed, nil
}

// removeLeftovers removes feedgen's temporary files from dir. Under the
// lock every one of them is a killed run's: no other run is writing, and
// the journal's were used by recoverCommit first.
func removeLeftovers(dir string) (removed int, freed int64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		if !isLeftover(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			removed++
			freed += info.Size()
		}
	}
	return removed, freed
}

// isLeftover reports whether name is one of feedgen's temporary files:
// tempPattern's, with the digits os.CreateTemp puts for its star.
func isLeftover(name string) bool {
	i := strings.LastIndex(name, ".tmp-")
	if i < 2 || name[0] != '.' || i+len(".tmp-") == len(name) {
		return false
	}
	return strings.Trim(name[i+len(".tmp-"):], "0123456789") == ""
}
