package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const scratchPrefix = "drift-vcsim-"

// useScratchDir points the simulator's datastore directories at a per-process directory and
// returns a function removing it. vcsim writes three files and a directory per VM; on a
// disk-backed /tmp that dominates seeding (and deleting them slows the next run), so the
// directory lives on /dev/shm when it is writable. VCSIM_SCRATCH overrides the base directory.
func useScratchDir() (func(), error) {
	base := os.Getenv("VCSIM_SCRATCH")
	if base == "" {
		base = os.TempDir()
		if writableDir("/dev/shm") {
			base = "/dev/shm"
		}
	}
	sweepStaleScratch(base)

	dir := filepath.Join(base, fmt.Sprintf("%s%d", scratchPrefix, os.Getpid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("scratch directory: %w", err)
	}
	// The simulator creates its datastore directories with ioutil.TempDir("", ...).
	if err := os.Setenv("TMPDIR", dir); err != nil {
		return nil, err
	}
	return func() { _ = os.RemoveAll(dir) }, nil
}

// sweepStaleScratch removes scratch directories left by simulators that were killed (SIGKILL
// skips cleanup); on /dev/shm they would otherwise hold memory until reboot.
func sweepStaleScratch(base string) {
	matches, _ := filepath.Glob(filepath.Join(base, scratchPrefix+"*"))
	for _, dir := range matches {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), scratchPrefix))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(dir)
		}
	}
}

func writableDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir() && syscall.Access(path, 2 /* W_OK */) == nil
}
